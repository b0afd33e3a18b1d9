//! The side panel for the selected step: a form for everything the model
//! has. The panel is built once per selected step; each field reads its
//! value from that step's own signal, so typing never rebuilds the form
//! (focus and caret stay put). Expressions and templates are checked as
//! you type with the same functions the server uses.

mod approval;
mod common;
mod control;
mod data;
mod email;
mod kinds;
mod llm;
mod suggest;
mod test_step;

use super::state::Canvas;
use crate::domain::Node;
use leptos::prelude::*;

/// Edits node `id` in place; successive edits of one step undo together.
pub(super) fn update(canvas: Canvas, id: &str, f: impl FnOnce(&mut Node)) {
    canvas.edit_merging(id, |d| {
        if let Some(n) = d.nodes.iter_mut().find(|n| n.id == id) {
            f(n);
        }
    });
}

/// A value of the selected node, read reactively.
pub(super) fn read<T: Default>(
    node: Memo<Option<Node>>,
    f: impl Fn(&Node) -> T + Copy + 'static,
) -> impl Fn() -> T + Copy + 'static {
    move || node.with(|n| n.as_ref().map(f).unwrap_or_default())
}

/// A message under a field, when the check fails.
pub(super) fn check_note(result: Result<(), String>) -> impl IntoView {
    result
        .err()
        .map(|e| view! { <p class="field-error" role="alert">{e}</p> })
}

/// Splits "a, b ,c" into ["a", "b", "c"].
pub(super) fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// What decides the form's layout: it is rebuilt only when this changes
/// (another kind, a condition or form field added or removed, ...), never
/// while typing in a field.
fn shape(n: &Node) -> String {
    use crate::domain::NodeKind;
    let kind = match &n.kind {
        NodeKind::Branch { conditions } => format!("branch{}", conditions.len()),
        NodeKind::Approval(a) => format!(
            "approval{}:{}:{}",
            a.form
                .iter()
                .map(|f| match &f.kind {
                    crate::domain::FormFieldKind::Choice { .. } => 'c',
                    _ => 'x',
                })
                .collect::<String>(),
            a.deadline.is_some(),
            a.deadline.as_ref().is_some_and(|d| matches!(
                d.action,
                crate::domain::DeadlineAction::Escalate { .. }
            )),
        ),
        NodeKind::Llm(c) => format!("llm{}:{}", c.mode.as_str(), c.labels.len()),
        other => other.type_name().to_string(),
    };
    format!("{kind}|{}", n.reversible)
}

#[component]
pub fn Inspector(canvas: Canvas) -> impl IntoView {
    let single = Memo::new(move |_| canvas.single());
    let count = Memo::new(move |_| canvas.selection.with(|s| s.len()));
    // the panel takes room from the canvas: the step it shows is scrolled
    // back into view if the narrower canvas hides it
    Effect::new(move |_| {
        if let Some(id) = single.get() {
            super::keys::reveal(id);
        }
    });
    move || {
        match single.get() {
        Some(id) => view! { <NodePanel canvas id /> }.into_any(),
        None if count.get() > 1 => view! {
            <aside class="inspector" aria-label="Inspector">
                <h3>{format!("{} steps selected", count.get())}</h3>
                <p class="muted">"Drag one of them to move them together."</p>
                <fieldset class="plain" disabled=move || canvas.read_only()>
                    <button on:click=move |_| canvas.duplicate()>"Duplicate"</button>
                    <button class="danger" on:click=move |_| canvas.delete_selection()>"Delete"</button>
                </fieldset>
            </aside>
        }
        .into_any(),
        None if canvas.settings_open.get() => view! { <WorkflowPanel canvas /> }.into_any(),
        None => ().into_any(),
    }
    }
}

/// Why nothing can be changed, when nothing can.
#[component]
fn ReadOnlyNote(canvas: Canvas) -> impl IntoView {
    move || {
        canvas.read_only().then(|| {
            view! {
                <p class="muted">{if canvas.viewing.with(Option::is_some) {
                    "An earlier version: read-only."
                } else {
                    "Read-only: your role may not change workflows."
                }}</p>
            }
        })
    }
}

/// With no step selected: the settings of the whole workflow.
#[component]
fn WorkflowPanel(canvas: Canvas) -> impl IntoView {
    let settings = Memo::new(move |_| canvas.with_shown(|d| d.settings.clone()));
    let edit = move |f: Box<dyn FnOnce(&mut crate::domain::graph::Settings)>| {
        canvas.edit_merging("workflow settings", |d| f(&mut d.settings));
    };
    view! {
        <aside class="inspector" aria-label="Inspector">
            <div class="inspector-head">
                <h3>"Workflow settings"</h3>
                <button class="link" on:click=move |_| canvas.settings_open.set(false)>"Close"</button>
            </div>
            <p class="muted">"Select a step to edit it; these apply to every run of the workflow."</p>
            <ReadOnlyNote canvas />
            <fieldset class="plain" disabled=move || canvas.read_only()>
                <label>"Confidence threshold (0–1, empty = none)"
                    <input type="number" min="0" max="1" step="0.01"
                        prop:value=move || settings.with(|s| s.confidence_threshold.map(|t| t.to_string()).unwrap_or_default())
                        on:change=move |ev| { let v = event_target_value(&ev).trim().parse().ok(); edit(Box::new(move |s| s.confidence_threshold = v)); } />
                </label>
                <p class="hint muted">"When the run's cumulative confidence (or a step's own) falls below it, the run stops and a person checks the step."</p>
                <label>"Roles that check low confidence (comma-separated)"
                    <input type="text" placeholder="approver, admin"
                        prop:value=move || settings.with(|s| s.gate_reviewers.roles.join(", "))
                        on:change=move |ev| { let v = list(&event_target_value(&ev)); edit(Box::new(move |s| s.gate_reviewers.roles = v)); } />
                </label>
                <label>"People who check low confidence (user names, comma-separated)"
                    <input type="text"
                        prop:value=move || settings.with(|s| s.gate_reviewers.users.join(", "))
                        on:change=move |ev| { let v = list(&event_target_value(&ev)); edit(Box::new(move |s| s.gate_reviewers.users = v)); } />
                </label>
                <p class="hint muted">"With neither, the roles approver and admin check."</p>
                <label>"Notify a webhook of approvals (Slack-compatible URL, optional)"
                    <input type="url" placeholder="https://hooks.slack.com/services/…"
                        prop:value=move || settings.with(|s| s.notify_webhook.clone().unwrap_or_default())
                        on:change=move |ev| { let v = Some(event_target_value(&ev).trim().to_string()).filter(|u| !u.is_empty()); edit(Box::new(move |s| s.notify_webhook = v)); } />
                </label>
                <p class="hint muted">"Told when an approval item opens, is escalated or nears its deadline; the people who may decide it are emailed as they chose under Settings."</p>
                <label>"Run timeout (ms, empty = none)"
                    <input type="number" min="1"
                        prop:value=move || settings.with(|s| s.run_timeout_ms.map(|t| t.to_string()).unwrap_or_default())
                        on:change=move |ev| { let v = event_target_value(&ev).trim().parse().ok(); edit(Box::new(move |s| s.run_timeout_ms = v)); } />
                </label>
            </fieldset>
        </aside>
    }
}

#[component]
fn NodePanel(canvas: Canvas, id: String) -> impl IntoView {
    let node = canvas.node(id.clone());
    let layout = Memo::new(move |_| node.with(|n| n.as_ref().map(shape)));
    let kind = read(node, |n| n.kind.type_name());
    let name = read(node, |n| n.name.clone());
    let name_id = id.clone();
    let body_id = id.clone();
    let data_id = id.clone();
    // the last expression or template field focused: the data panel's target
    let on_focus = |ev: leptos::ev::FocusEvent| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let el = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            if let Some(el) = el
                && el.has_attribute("data-code")
            {
                // marked in the page itself: no handle to it is kept
                while let Ok(Some(e)) = document().query_selector("[data-last-focus]") {
                    if e.remove_attribute("data-last-focus").is_err() {
                        break;
                    }
                }
                let _ = el.set_attribute("data-last-focus", "");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <aside class="inspector" aria-label="Inspector" on:focusin=on_focus>
            <h3>{kind} " " <code>{id.clone()}</code></h3>
            <ReadOnlyNote canvas />
            <fieldset class="plain" disabled=move || canvas.read_only()>
                <label>"Name"
                    <input type="text" prop:value=name
                        on:change=move |ev| { let v = event_target_value(&ev); update(canvas, &name_id, |n| n.name = v); } />
                </label>
                {move || layout.get().map(|_| {
                    let id = body_id.clone();
                    view! {
                        {kinds::kind_fields(canvas, &id, node)}
                        <p class="hint muted output-doc">"Output, read as "
                            <code>{format!(".steps.{id}.output")}</code> ": "
                            {move || crate::domain::outputs::output_of(kind())}</p>
                        <common::Connections canvas id=id.clone() />
                        {common::common_fields(canvas, &id, node)}
                    }
                })}
            </fieldset>
            {(!canvas.read_only()).then(|| view! {
                <test_step::TestStepPanel canvas id=data_id.clone() />
                <data::DataPanel canvas id=data_id />
            })}
        </aside>
    }
}
