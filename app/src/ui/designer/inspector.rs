//! The side panel for the selected step: its name and the settings of its
//! kind. Expressions and templates are checked as you type with the same
//! functions the server uses.

use super::Canvas;
use crate::domain::expr;
use crate::domain::graph::{BranchCondition, HTTP_METHODS, HttpRequest, Node, NodeKind};
use leptos::prelude::*;

/// Edits the selected node in place (undoable).
fn update(canvas: Canvas, id: &str, f: impl FnOnce(&mut Node)) {
    canvas.edit(|d| {
        if let Some(n) = d.nodes.iter_mut().find(|n| n.id == id) {
            f(n);
        }
    });
}

fn edit_request(canvas: Canvas, id: &str, f: impl FnOnce(&mut HttpRequest)) {
    update(canvas, id, |n| {
        if let NodeKind::Http { request, .. } = &mut n.kind {
            f(request);
        }
    });
}

fn edit_branch(canvas: Canvas, id: &str, f: impl FnOnce(&mut Vec<BranchCondition>)) {
    update(canvas, id, |n| {
        if let NodeKind::Branch { conditions } = &mut n.kind {
            f(conditions);
        }
    });
}

/// A message under a field, when the check fails.
fn check_note(result: Result<(), String>) -> impl IntoView {
    result
        .err()
        .map(|e| view! { <p class="field-error" role="alert">{e}</p> })
}

#[component]
pub fn Inspector(canvas: Canvas) -> impl IntoView {
    let node = move || {
        let id = canvas.selected.get()?;
        canvas.def.with(|d| d.node(&id).cloned())
    };
    move || {
        node().map(|n| {
            let id = n.id.clone();
            let name_id = id.clone();
            view! {
                <aside class="inspector" aria-label="Inspector">
                    <h3>{n.kind.type_name()} " " <code>{id.clone()}</code></h3>
                    <label>"Name"
                        <input type="text" prop:value=n.name.clone()
                            on:change=move |ev| { let v = event_target_value(&ev); update(canvas, &name_id, |n| n.name = v); } />
                    </label>
                    {kind_fields(canvas, &n)}
                    {common_fields(canvas, &n)}
                </aside>
            }
        })
    }
}

fn kind_fields(canvas: Canvas, n: &Node) -> AnyView {
    let id = n.id.clone();
    match &n.kind {
        NodeKind::Transform { expression } => {
            let code = expression.clone();
            view! {
                <label>"Expression (jq)"
                    <textarea rows="4" spellcheck="false" prop:value=code.clone()
                        on:input=move |ev| { let v = event_target_value(&ev); update(canvas, &id, |n| n.kind = NodeKind::Transform { expression: v }); }></textarea>
                </label>
                {check_note(expr::check(&code))}
            }
            .into_any()
        }
        NodeKind::End { output } => {
            let code = output.clone().unwrap_or_default();
            let note = (!code.trim().is_empty()).then(|| check_note(expr::check(&code)));
            view! {
                <label>"Output mapping (jq, optional)"
                    <textarea rows="3" spellcheck="false" prop:value=code
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            let output = (!v.trim().is_empty()).then_some(v);
                            update(canvas, &id, |n| n.kind = NodeKind::End { output });
                        }></textarea>
                </label>
                {note}
            }
            .into_any()
        }
        NodeKind::Fail { message } => {
            let text = message.clone();
            view! {
                <label>"Message (template)"
                    <input type="text" prop:value=text.clone()
                        on:input=move |ev| { let v = event_target_value(&ev); update(canvas, &id, |n| n.kind = NodeKind::Fail { message: v }); } />
                </label>
                {check_note(expr::check_template(&text))}
            }
            .into_any()
        }
        NodeKind::Delay { duration_ms } => view! {
            <label>"Wait (seconds)"
                <input type="number" min="1" prop:value=(*duration_ms / 1000).to_string()
                    on:change=move |ev| {
                        let secs: u64 = event_target_value(&ev).parse().unwrap_or(0);
                        update(canvas, &id, |n| n.kind = NodeKind::Delay { duration_ms: secs * 1000 });
                    } />
            </label>
        }
        .into_any(),
        NodeKind::Http { request, .. } => {
            let (method, url, body) = (request.method.clone(), request.url.clone(), request.body.clone().unwrap_or_default());
            let (id_m, id_u, id_b) = (id.clone(), id.clone(), id);
            view! {
                <label>"Method"
                    <select on:change=move |ev| { let v = event_target_value(&ev); edit_request(canvas, &id_m, move |r| r.method = v); }>
                        {HTTP_METHODS.iter().map(|m| view! { <option value=*m selected=*m == method>{*m}</option> }).collect_view()}
                    </select>
                </label>
                <label>"URL (template)"
                    <input type="text" prop:value=url.clone()
                        on:input=move |ev| { let v = event_target_value(&ev); edit_request(canvas, &id_u, move |r| r.url = v); } />
                </label>
                {check_note(expr::check_template(&url))}
                <label>"Body (template, optional)"
                    <textarea rows="4" spellcheck="false" prop:value=body.clone()
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            edit_request(canvas, &id_b, move |r| r.body = (!v.is_empty()).then_some(v));
                        }></textarea>
                </label>
                {check_note(expr::check_template(&body))}
            }
            .into_any()
        }
        NodeKind::Branch { conditions } => branch_fields(canvas, &id, conditions.clone()),
        _ => view! { <p class="muted">"This step has no settings of its own yet."</p> }.into_any(),
    }
}

fn branch_fields(canvas: Canvas, id: &str, conditions: Vec<BranchCondition>) -> AnyView {
    let rows = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (id_l, id_e, id_r) = (id.to_string(), id.to_string(), id.to_string());
            view! {
                <fieldset class="condition">
                    <legend>{format!("Condition {}", i + 1)}</legend>
                    <label>"Label (port)"
                        <input type="text" prop:value=c.label.clone()
                            on:change=move |ev| { let v = event_target_value(&ev); edit_branch(canvas, &id_l, move |cs| cs[i].label = v); } />
                    </label>
                    <label>"When (jq)"
                        <input type="text" spellcheck="false" prop:value=c.expression.clone()
                            on:input=move |ev| { let v = event_target_value(&ev); edit_branch(canvas, &id_e, move |cs| cs[i].expression = v); } />
                    </label>
                    {check_note(expr::check(&c.expression))}
                    <button class="link danger" on:click=move |_| edit_branch(canvas, &id_r, move |cs| { cs.remove(i); })>"Remove"</button>
                </fieldset>
            }
        })
        .collect_view();
    let id_add = id.to_string();
    let next = conditions.len() + 1;
    view! {
        {rows}
        <button on:click=move |_| edit_branch(canvas, &id_add, move |cs| cs.push(BranchCondition {
            label: format!("case{next}"), expression: "true".into() }))>"Add condition"</button>
        <p class="muted">"The 'default' port is taken when no condition holds."</p>
    }
    .into_any()
}

fn common_fields(canvas: Canvas, n: &Node) -> impl IntoView {
    let (id_t, id_c) = (n.id.clone(), n.id.clone());
    let timeout = n.timeout_ms.map(|t| t.to_string()).unwrap_or_default();
    let threshold = n
        .confidence_threshold
        .map(|t| t.to_string())
        .unwrap_or_default();
    view! {
        <details class="common">
            <summary>"Timeout and confidence"</summary>
            <label>"Timeout (ms, empty = none)"
                <input type="number" min="1" prop:value=timeout
                    on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); update(canvas, &id_t, |n| n.timeout_ms = v); } />
            </label>
            <label>"Confidence threshold (0–1, empty = the workflow's)"
                <input type="number" min="0" max="1" step="0.01" prop:value=threshold
                    on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); update(canvas, &id_c, |n| n.confidence_threshold = v); } />
            </label>
        </details>
    }
}
