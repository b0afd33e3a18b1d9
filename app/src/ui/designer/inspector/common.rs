//! Settings every step has: where each port leads, retries per error
//! class, timeout, confidence threshold, and compensation.

use super::kinds::request_fields;
use super::{Canvas, read, update};
use crate::domain::graph::{ErrorClass, HttpRequest, Node, RetryPolicy};
use crate::domain::{Edge, PORT_ERROR};
use crate::ui::designer::geometry::ports;
use leptos::prelude::*;

/// Each output port with the steps it leads to: remove a connection, or
/// add one by choosing the next step (the keyboard way to draw an edge).
#[component]
pub fn Connections(canvas: Canvas, id: String) -> impl IntoView {
    let rows = Memo::new(move |_| {
        canvas.with_shown(|d| {
            let Some(n) = d.node(&id) else {
                return (vec![], vec![]);
            };
            let ports: Vec<(String, Vec<(String, String)>)> = ports(n)
                .into_iter()
                .map(|p| {
                    let to = d
                        .edges
                        .iter()
                        .filter(|e| e.from == id && e.port == p)
                        .map(|e| {
                            let name = d.node(&e.to).map(|t| t.name.clone()).unwrap_or_default();
                            (e.to.clone(), name)
                        })
                        .collect();
                    (p, to)
                })
                .collect();
            let others = d
                .nodes
                .iter()
                .filter(|o| o.id != id)
                .map(|o| (o.id.clone(), o.name.clone()))
                .collect();
            (ports, others)
        })
    });
    move || {
        let (ports, others) = rows.get();
        (!ports.is_empty()).then(|| {
            let source = canvas.single().unwrap_or_default();
            view! {
                <fieldset>
                    <legend>"Next steps"</legend>
                    {ports.into_iter().map(|(port, to)| {
                        let label = if port == PORT_ERROR { "on error".to_string() } else { port.clone() };
                        let (src, p) = (source.clone(), port.clone());
                        let others = others.clone();
                        view! {
                            <div class="port-row" data-port-row=port.clone()>
                                <span class="port-name">{label}</span>
                                {to.into_iter().map(|(t, name)| {
                                    let (src, p, t2) = (src.clone(), p.clone(), t.clone());
                                    view! {
                                        <span class="chip">{name} " "
                                            <button class="link danger" title="Remove this connection" aria-label=format!("Disconnect {t}")
                                                on:click=move |_| canvas.edit(|d| d.edges.retain(|e| !(e.from == src && e.port == p && e.to == t2)))>"×"</button>
                                        </span>
                                    }
                                }).collect_view()}
                                <select aria-label=format!("Connect {port} to") prop:value=""
                                    on:change=move |ev| {
                                        let to = event_target_value(&ev);
                                        if !to.is_empty() {
                                            canvas.edit(|d| {
                                                let e = Edge::new(&src, &p, &to);
                                                if !d.edges.contains(&e) { d.edges.push(e); }
                                            });
                                        }
                                    }>
                                    <option value="">"+ connect to…"</option>
                                    {others.into_iter().map(|(oid, name)| view! { <option value=oid.clone()>{format!("{name} ({oid})")}</option> }).collect_view()}
                                </select>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
            }
        })
    }
}

fn number_input<T: std::str::FromStr + ToString + Default + 'static>(
    label: &'static str,
    step: &'static str,
    value: impl Fn() -> String + Copy + Send + Sync + 'static,
    set: impl Fn(T) + 'static,
) -> impl IntoView {
    view! {
        <label>{label}
            <input type="number" min="0" step=step prop:value=value
                on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<T>() { set(v) } } />
        </label>
    }
}

fn retry_row(
    canvas: Canvas,
    id: &str,
    node: Memo<Option<Node>>,
    class: ErrorClass,
) -> impl IntoView {
    let get = move |f: fn(&RetryPolicy) -> String| read(node, move |n| f(n.retry.for_class(class)));
    let set = move |id: String, f: fn(&mut RetryPolicy, f64)| {
        move |v: f64| update(canvas, &id, |n| f(n.retry.for_class_mut(class), v))
    };
    let title = match class {
        ErrorClass::Transient => "Transient errors (timeouts, 5xx, 429)",
        ErrorClass::Business => "Business errors (4xx, Fail, rejected)",
        ErrorClass::Format => "Format errors (unexpected output)",
    };
    view! {
        <fieldset class="retry" data-class=format!("{class:?}").to_lowercase()>
            <legend>{title}</legend>
            {number_input::<f64>("Attempts (1 = no retry)", "1", get(|p| p.max_attempts.to_string()),
                set(id.to_string(), |p, v| p.max_attempts = v.max(1.0) as u32))}
            {number_input::<f64>("First delay (ms)", "100", get(|p| p.initial_delay_ms.to_string()),
                set(id.to_string(), |p, v| p.initial_delay_ms = v as u64))}
            {number_input::<f64>("Multiplier", "0.1", get(|p| p.multiplier.to_string()),
                set(id.to_string(), |p, v| p.multiplier = v))}
            {number_input::<f64>("Longest delay (ms)", "100", get(|p| p.max_delay_ms.to_string()),
                set(id.to_string(), |p, v| p.max_delay_ms = v as u64))}
            {number_input::<f64>("Jitter (0–1)", "0.05", get(|p| p.jitter.to_string()),
                set(id.to_string(), |p, v| p.jitter = v.clamp(0.0, 1.0)))}
        </fieldset>
    }
}

pub(super) fn common_fields(canvas: Canvas, id: &str, node: Memo<Option<Node>>) -> impl IntoView {
    let (id_t, id_c, id_r, id_l) = (
        id.to_string(),
        id.to_string(),
        id.to_string(),
        id.to_string(),
    );
    let is_loop = node
        .get_untracked()
        .is_some_and(|n| n.max_iterations.is_some());
    let does_work = node.get_untracked().is_some_and(|n| {
        n.kind.can_error() || matches!(n.kind, crate::domain::NodeKind::Approval(_))
    });
    let reversible = node.get_untracked().is_some_and(|n| n.reversible);
    let retries = does_work.then(|| {
        view! {
            <details class="common">
                <summary>"Retries"</summary>
                {retry_row(canvas, id, node, ErrorClass::Transient)}
                {retry_row(canvas, id, node, ErrorClass::Business)}
                {retry_row(canvas, id, node, ErrorClass::Format)}
            </details>
        }
    });
    let compensation = reversible.then(|| request_fields(canvas, id, node, true));
    view! {
        {retries}
        <details class="common">
            <summary>"Timeout and confidence"</summary>
            <label>"Timeout (ms, empty = none)"
                <input type="number" min="1" prop:value=read(node, |n| n.timeout_ms.map(|t| t.to_string()).unwrap_or_default())
                    on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); update(canvas, &id_t, |n| n.timeout_ms = v); } />
            </label>
            <label>"Confidence threshold (0–1, empty = the workflow's)"
                <input type="number" min="0" max="1" step="0.01" prop:value=read(node, |n| n.confidence_threshold.map(|t| t.to_string()).unwrap_or_default())
                    on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); update(canvas, &id_c, |n| n.confidence_threshold = v); } />
            </label>
        </details>
        <details class="common" open=is_loop>
            <summary>"Loop"</summary>
            <label>"Most passes (empty: not a loop)"
                <input type="number" min="1" max=crate::domain::graph::MAX_ITERATIONS prop:value=read(node, |n| n.max_iterations.map(|t| t.to_string()).unwrap_or_default())
                    on:change=move |ev| { let v = event_target_value(&ev).trim().parse().ok(); update(canvas, &id_l, |n| n.max_iterations = v); } />
            </label>
            <p class="muted small">"With a number here, a later step may connect back to this one: each time the run takes that connection, the steps from here to there run again (their earlier passes stay readable as .steps.<id>.iterations). After the last pass this step leaves through its 'exhausted' port; unconnected, the run fails."</p>
        </details>
        <details class="common" open=reversible>
            <summary>"Undo on failure (compensation)"</summary>
            <label class="check">
                <input type="checkbox" prop:checked=read(node, |n| n.reversible)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        update(canvas, &id_r, |n| {
                            n.reversible = on;
                            if on && n.compensation.is_none() {
                                n.compensation = Some(HttpRequest { method: "POST".into(), url: "https://".into(), headers: Default::default(), body: None });
                            }
                        });
                    } />
                "Reversible: if the run fails later, call this request to undo the step"
            </label>
            {compensation}
        </details>
    }
}
