//! The settings of the steps that run other graphs: Sub-workflow (another
//! workflow as a child run) and For each (its body once per item).

use super::kinds::{code_field, edit_kind};
use super::{Canvas, read};
use crate::domain::expr;
use crate::domain::graph::{ForEachConfig, MAX_CONCURRENCY, Node, NodeKind};
use leptos::prelude::*;

fn edit_sub(
    canvas: Canvas,
    id: &str,
    f: impl FnOnce(&mut String, &mut Option<i64>, &mut Option<String>),
) {
    edit_kind(canvas, id, |k| {
        if let NodeKind::SubWorkflow {
            workflow_id,
            version,
            input,
        } = k
        {
            f(workflow_id, version, input);
        }
    });
}

/// The workflow a Sub-workflow step runs, which version, and its input.
pub(super) fn sub_workflow_fields(canvas: Canvas, id: &str, node: Memo<Option<Node>>) -> AnyView {
    let (id_w, id_v, id_i) = (id.to_string(), id.to_string(), id.to_string());
    let wf = read(node, |n| match &n.kind {
        NodeKind::SubWorkflow { workflow_id, .. } => workflow_id.clone(),
        _ => String::new(),
    });
    let version = read(node, |n| match &n.kind {
        NodeKind::SubWorkflow { version, .. } => version.map(|v| v.to_string()).unwrap_or_default(),
        _ => String::new(),
    });
    // the workflows it may run: every other one
    let own = canvas.workflow_id.get_untracked();
    let others = Resource::new(
        || (),
        move |_| {
            let own = own.clone();
            async move {
                crate::api::workflows::list_workflows().await.map(|l| {
                    l.into_iter()
                        .filter(|w| Some(&w.id) != own.as_ref())
                        .collect::<Vec<_>>()
                })
            }
        },
    );
    view! {
        <label>"Workflow to run"
            <select prop:value=wf
                on:change=move |ev| { let v = event_target_value(&ev); edit_sub(canvas, &id_w, |w, _, _| *w = v); }>
                <option value="">"Choose a workflow…"</option>
                <Suspense fallback=|| ()>
                    {move || others.get().map(|r| match r {
                        Ok(list) => {
                            let chosen = wf();
                            // a workflow not in the list (deleted, or no access) stays shown
                            let missing = (!chosen.is_empty() && !list.iter().any(|w| w.id == chosen)).then(|| {
                                view! { <option value=chosen.clone() selected=true>{format!("{chosen} (not found)")}</option> }
                            });
                            let options = list.into_iter().map(|w| {
                                let label = match w.published_version {
                                    Some(v) => format!("{} (published: v{v})", w.name),
                                    None => format!("{} (nothing published)", w.name),
                                };
                                let selected = w.id == chosen;
                                view! { <option value=w.id.clone() selected=selected>{label}</option> }
                            }).collect_view();
                            view! { {missing} {options} }.into_any()
                        }
                        Err(e) => view! { <option disabled=true>{e.to_string()}</option> }.into_any(),
                    })}
                </Suspense>
            </select>
        </label>
        <label>"Version (empty: the published one)"
            <input type="number" min="1" prop:value=version
                on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); edit_sub(canvas, &id_v, |_, ver, _| *ver = v); } />
        </label>
        {code_field(
            "Input (jq over the run context; empty: this run's input)",
            2,
            read(node, |n| match &n.kind {
                NodeKind::SubWorkflow { input, .. } => input.clone().unwrap_or_default(),
                _ => String::new(),
            }),
            expr::check,
            move |v| { let v = (!v.trim().is_empty()).then_some(v); edit_sub(canvas, &id_i, |_, _, i| *i = v); },
        )}
    }
    .into_any()
}

fn edit_each(canvas: Canvas, id: &str, f: impl FnOnce(&mut ForEachConfig)) {
    edit_kind(canvas, id, |k| {
        if let NodeKind::ForEach(c) = k {
            f(c);
        }
    });
}

fn each<T: Default + 'static>(
    node: Memo<Option<Node>>,
    f: fn(&ForEachConfig) -> T,
) -> impl Fn() -> T + Copy + 'static {
    read(node, move |n| match &n.kind {
        NodeKind::ForEach(c) => f(c),
        _ => T::default(),
    })
}

/// The list a For each goes through, how many items at once, how many may
/// fail, and whether the results are gathered.
pub(super) fn for_each_fields(canvas: Canvas, id: &str, node: Memo<Option<Node>>) -> AnyView {
    let (id_i, id_c, id_f, id_p, id_r) = (
        id.to_string(),
        id.to_string(),
        id.to_string(),
        id.to_string(),
        id.to_string(),
    );
    let opt = |v: String| v.trim().parse().ok();
    view! {
        {code_field(
            "Items (jq over the run context: a list)",
            2,
            each(node, |c| c.items.clone()),
            expr::check,
            move |v| edit_each(canvas, &id_i, |c| c.items = v),
        )}
        <p class="muted">"Its body runs once per item, from the Start inside its frame; the body reads .item and .index."</p>
        <label>"Items at once"
            <input type="number" min="1" max=MAX_CONCURRENCY prop:value=each(node, |c| c.concurrency.to_string())
                on:change=move |ev| { let v = event_target_value(&ev).trim().parse().unwrap_or(0); edit_each(canvas, &id_c, |c| c.concurrency = v); } />
        </label>
        <label>"Failed items tolerated (count)"
            <input type="number" min="0" prop:value=each(node, |c| c.tolerated_failures.map(|v| v.to_string()).unwrap_or_default())
                on:change=move |ev| { let v = opt(event_target_value(&ev)); edit_each(canvas, &id_f, |c| c.tolerated_failures = v); } />
        </label>
        <label>"Failed items tolerated (% of the items)"
            <input type="number" min="0" max="100" step="any" prop:value=each(node, |c| c.tolerated_failure_percent.map(|v| v.to_string()).unwrap_or_default())
                on:change=move |ev| { let v = event_target_value(&ev).trim().parse().ok(); edit_each(canvas, &id_p, |c| c.tolerated_failure_percent = v); } />
        </label>
        <label class="check">
            <input type="checkbox" prop:checked=each(node, |c| c.collect_results)
                on:change=move |ev| { let v = event_target_checked(&ev); edit_each(canvas, &id_r, |c| c.collect_results = v); } />
            "Gather every item's output into results (off for very long lists)"
        </label>
    }
    .into_any()
}
