//! The settings of each node kind.

use super::{Canvas, approval, check_note, read, update};
use crate::domain::expr;
use crate::domain::graph::{BranchCondition, HTTP_METHODS, HttpRequest, Node, NodeKind};
use leptos::prelude::*;
use serde_json::Value;

pub(super) fn edit_kind(canvas: Canvas, id: &str, f: impl FnOnce(&mut NodeKind)) {
    update(canvas, id, |n| f(&mut n.kind));
}

pub(super) fn edit_request(
    canvas: Canvas,
    id: &str,
    compensation: bool,
    f: impl FnOnce(&mut HttpRequest),
) {
    update(canvas, id, |n| {
        if compensation {
            if let Some(r) = &mut n.compensation {
                f(r);
            }
        } else if let NodeKind::Http { request, .. } = &mut n.kind {
            f(request);
        }
    });
}

/// A code field (jq or template) checked as you type.
pub(super) fn code_field(
    label: &'static str,
    rows: u32,
    value: impl Fn() -> String + Copy + Send + Sync + 'static,
    check: fn(&str) -> Result<(), String>,
    set: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label>{label}
            <textarea rows=rows spellcheck="false" prop:value=value
                data-code=if label.contains("template") { "template" } else { "jq" }
                on:input=move |ev| set(event_target_value(&ev))></textarea>
        </label>
        {move || { let v = value(); (!v.trim().is_empty()).then(|| check_note(check(&v))) }}
    }
}

/// A Code step's JavaScript, checked by the engine that runs it (on the
/// server) as you type: a syntax error is shown with its line.
fn js_field(
    value: impl Fn() -> String + Copy + Send + Sync + 'static,
    set: impl Fn(String) + 'static,
) -> impl IntoView {
    let checked = Resource::new(value, |source| async move {
        if source.trim().is_empty() {
            return Ok(None);
        }
        crate::api::workflows::check_code(source).await
    });
    view! {
        <label>"Code (JavaScript: function main(ctx) returns the output)"
            <textarea rows=12 spellcheck="false" prop:value=value data-code="js"
                on:input=move |ev| set(event_target_value(&ev))></textarea>
        </label>
        <Transition fallback=|| ()>
            {move || checked.get().map(|r| match r {
                Ok(None) => ().into_any(),
                Ok(Some(e)) => check_note(Err(e)).into_any(),
                Err(e) => view! { <p class="muted small">{format!("The code could not be checked: {}", e.message)}</p> }.into_any(),
            })}
        </Transition>
    }
}

/// A JSON document (a JSON Schema): stored only when it parses; until
/// then the text stays in the field with a message.
pub(super) fn json_field(
    label: &'static str,
    initial: Option<Value>,
    set: impl Fn(Option<Value>) + 'static,
) -> impl IntoView {
    let text = RwSignal::new(
        initial
            .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<String>);
    view! {
        <label>{label}
            <textarea rows="5" spellcheck="false" prop:value=move || text.get()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    text.set(v.clone());
                    if v.trim().is_empty() {
                        error.set(None);
                        set(None);
                    } else {
                        match serde_json::from_str::<Value>(&v) {
                            Ok(json) => { error.set(None); set(Some(json)); }
                            Err(e) => error.set(Some(format!("not valid JSON yet: {e}"))),
                        }
                    }
                }></textarea>
        </label>
        {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
    }
}

/// Method, URL, headers and body of a request (the Http step's, or a
/// compensation's).
pub(super) fn request_fields(
    canvas: Canvas,
    id: &str,
    node: Memo<Option<Node>>,
    compensation: bool,
) -> impl IntoView {
    let req = move |n: &Node| -> Option<HttpRequest> {
        if compensation {
            n.compensation.clone()
        } else if let NodeKind::Http { request, .. } = &n.kind {
            Some(request.clone())
        } else {
            None
        }
    };
    let method = read(node, move |n| req(n).map(|r| r.method).unwrap_or_default());
    let url = read(node, move |n| req(n).map(|r| r.url).unwrap_or_default());
    let body = read(node, move |n| {
        req(n).and_then(|r| r.body).unwrap_or_default()
    });
    let headers = read(node, move |n| {
        req(n)
            .map(|r| {
                r.headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}\n"))
                    .collect::<String>()
            })
            .unwrap_or_default()
    });
    let (id_m, id_u, id_h, id_b) = (
        id.to_string(),
        id.to_string(),
        id.to_string(),
        id.to_string(),
    );
    view! {
        <label>"Method"
            <select prop:value=method on:change=move |ev| { let v = event_target_value(&ev); edit_request(canvas, &id_m, compensation, move |r| r.method = v); }>
                {HTTP_METHODS.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
            </select>
        </label>
        {code_field("URL (template)", 1, url, expr::check_template,
            move |v| edit_request(canvas, &id_u, compensation, move |r| r.url = v))}
        <label>"Headers (one \"Name: value\" per line, templates)"
            <textarea rows="3" spellcheck="false" prop:value=headers
                on:change=move |ev| {
                    let text = event_target_value(&ev);
                    let parsed = text.lines().filter(|l| !l.trim().is_empty()).map(|l| match l.split_once(':') {
                        Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
                        None => (l.trim().to_string(), String::new()),
                    }).collect();
                    edit_request(canvas, &id_h, compensation, move |r| r.headers = parsed);
                }></textarea>
        </label>
        {code_field("Body (template, optional)", 4, body, expr::check_template,
            move |v| edit_request(canvas, &id_b, compensation, move |r| r.body = (!v.is_empty()).then_some(v)))}
    }
}

pub(super) fn kind_fields(canvas: Canvas, id: &str, node: Memo<Option<Node>>) -> AnyView {
    let Some(n) = node.get_untracked() else {
        return ().into_any();
    };
    let id = id.to_string();
    match &n.kind {
        NodeKind::Start { input_schema } => json_field(
            "Input schema (JSON Schema, optional)",
            input_schema.clone(),
            move |v| edit_kind(canvas, &id, |k| *k = NodeKind::Start { input_schema: v }),
        )
        .into_any(),
        NodeKind::Transform { .. } => code_field(
            "Expression (jq)",
            4,
            read(node, |n| match &n.kind {
                NodeKind::Transform { expression } => expression.clone(),
                _ => String::new(),
            }),
            expr::check,
            move |v| edit_kind(canvas, &id, |k| *k = NodeKind::Transform { expression: v }),
        )
        .into_any(),
        NodeKind::Code { .. } => js_field(
            read(node, |n| match &n.kind {
                NodeKind::Code { source } => source.clone(),
                _ => String::new(),
            }),
            move |v| edit_kind(canvas, &id, |k| *k = NodeKind::Code { source: v }),
        )
        .into_any(),
        NodeKind::End { .. } => code_field(
            "Output mapping (jq, optional)",
            3,
            read(node, |n| match &n.kind {
                NodeKind::End { output } => output.clone().unwrap_or_default(),
                _ => String::new(),
            }),
            expr::check,
            move |v| {
                let output = (!v.trim().is_empty()).then_some(v);
                edit_kind(canvas, &id, |k| *k = NodeKind::End { output })
            },
        )
        .into_any(),
        NodeKind::Fail { .. } => code_field(
            "Message (template)",
            2,
            read(node, |n| match &n.kind {
                NodeKind::Fail { message } => message.clone(),
                _ => String::new(),
            }),
            expr::check_template,
            move |v| edit_kind(canvas, &id, |k| *k = NodeKind::Fail { message: v }),
        )
        .into_any(),
        NodeKind::Delay { .. } => {
            let secs = read(node, |n| match &n.kind {
                NodeKind::Delay { duration_ms } => (duration_ms / 1000).to_string(),
                _ => String::new(),
            });
            view! {
                <label>"Wait (seconds)"
                    <input type="number" min="1" prop:value=secs
                        on:change=move |ev| {
                            let secs: u64 = event_target_value(&ev).parse().unwrap_or(0);
                            edit_kind(canvas, &id, |k| *k = NodeKind::Delay { duration_ms: secs * 1000 });
                        } />
                </label>
            }
            .into_any()
        }
        NodeKind::Http {
            response_schema, ..
        } => {
            let id_s = id.clone();
            view! {
                {request_fields(canvas, &id, node, false)}
                {json_field("Expected response (JSON Schema, optional)", response_schema.clone(), move |v| {
                    edit_kind(canvas, &id_s, |k| if let NodeKind::Http { response_schema, .. } = k { *response_schema = v; })
                })}
            }
            .into_any()
        }
        NodeKind::Branch { conditions } => branch_fields(canvas, &id, node, conditions.len()),
        NodeKind::Join {} => view! {
            <p class="muted">"Waits until every incoming path has arrived or was skipped."</p>
        }
        .into_any(),
        NodeKind::Approval(_) => approval::approval_fields(canvas, &id, node),
        NodeKind::SubWorkflow { .. } => super::control::sub_workflow_fields(canvas, &id, node),
        NodeKind::ForEach(_) => super::control::for_each_fields(canvas, &id, node),
        NodeKind::Llm(_) => super::llm::llm_fields(canvas, &id, node),
        NodeKind::Email(_) => super::email::email_fields(canvas, &id, node),
    }
}

fn edit_branch(canvas: Canvas, id: &str, f: impl FnOnce(&mut Vec<BranchCondition>)) {
    edit_kind(canvas, id, |k| {
        if let NodeKind::Branch { conditions } = k {
            f(conditions);
        }
    });
}

fn branch_fields(canvas: Canvas, id: &str, node: Memo<Option<Node>>, count: usize) -> AnyView {
    let cond = move |i: usize, f: fn(&BranchCondition) -> String| {
        read(node, move |n| match &n.kind {
            NodeKind::Branch { conditions } => conditions.get(i).map(f).unwrap_or_default(),
            _ => String::new(),
        })
    };
    let rows = (0..count)
        .map(|i| {
            let (id_l, id_e, id_u, id_r) = (id.to_string(), id.to_string(), id.to_string(), id.to_string());
            let expression = cond(i, |c| c.expression.clone());
            view! {
                <fieldset class="condition">
                    <legend>{format!("Condition {}", i + 1)}</legend>
                    <label>"Label (port)"
                        <input type="text" prop:value=cond(i, |c| c.label.clone())
                            on:change=move |ev| { let v = event_target_value(&ev); edit_branch(canvas, &id_l, move |cs| cs[i].label = v); } />
                    </label>
                    <label>"When (jq)"
                        <input type="text" spellcheck="false" prop:value=expression data-code="jq"
                            on:input=move |ev| { let v = event_target_value(&ev); edit_branch(canvas, &id_e, move |cs| cs[i].expression = v); } />
                    </label>
                    {move || check_note(expr::check(&expression()))}
                    <div class="row-actions">
                        <button class="link" disabled=i == 0 title="Check this condition earlier"
                            on:click=move |_| edit_branch(canvas, &id_u, move |cs| cs.swap(i - 1, i))>"Move up"</button>
                        <button class="link danger" on:click=move |_| edit_branch(canvas, &id_r, move |cs| { cs.remove(i); })>"Remove"</button>
                    </div>
                </fieldset>
            }
        })
        .collect_view();
    let id_add = id.to_string();
    view! {
        {rows}
        <button on:click=move |_| edit_branch(canvas, &id_add, move |cs| {
            let label = (cs.len() + 1..).map(|i| format!("case{i}")).find(|l| cs.iter().all(|c| c.label != *l)).expect("free");
            cs.push(BranchCondition { label, expression: "true".into() });
        })>"Add condition"</button>
        <p class="muted">"Conditions are checked in order; the 'default' port is taken when none holds."</p>
    }
    .into_any()
}
