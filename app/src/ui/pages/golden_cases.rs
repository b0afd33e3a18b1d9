//! Writing a golden set by hand on the workflow's page: a case's JSON
//! edited in place (or a new one), cases removed, and the publish gate.

use crate::api::golden::{delete_test_case, publish_gate, set_publish_gate, write_test_case};
use crate::domain::golden::TestCase;
use leptos::prelude::*;

/// A new case's starting point.
const TEMPLATE: &str = r#"{
  "name": "a new case",
  "input": {},
  "expect_output": null,
  "expect_routes": {},
  "assertions": [],
  "recorded": {},
  "decisions": {}
}"#;

/// The case list with Edit and Delete per case and "Add a case";
/// `changed` is bumped after every write so the list is read again.
#[component]
pub fn CaseList(
    workflow_id: String,
    cases: Vec<TestCase>,
    editable: bool,
    changed: RwSignal<u32>,
) -> impl IntoView {
    // the case being edited ("" for a new one) and its text
    let editing = RwSignal::new(None::<String>);
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let rows = cases
        .into_iter()
        .map(|c| {
            let (id, id2) = (c.id.clone(), c.id.clone());
            let spec = serde_json::to_string_pretty(&c.spec).unwrap_or_default();
            view! {
                <li data-case=c.id.clone()>{c.spec.name.clone()}
                    {c.source.map(|s| view! { <span class="muted">" · from "{s}</span> })}
                    {editable.then(|| view! {
                        " "
                        <button class="link" on:click=move |_| { error.set(None); text.set(spec.clone()); editing.set(Some(id.clone())); }>"Edit"</button>
                        <button class="link danger" on:click=move |_| {
                            let id = id2.clone();
                            leptos::task::spawn_local(async move {
                                match delete_test_case(id).await {
                                    Ok(()) => changed.update(|n| *n += 1),
                                    Err(e) => error.set(Some(e.message)),
                                }
                            });
                        }>"Delete"</button>
                    })}
                </li>
            }
        })
        .collect_view();
    let save = move |_| {
        let (wf, case_id, spec) = (
            workflow_id.clone(),
            editing.get_untracked().unwrap_or_default(),
            text.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            match write_test_case(wf, case_id, spec).await {
                Ok(_) => {
                    editing.set(None);
                    changed.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <ul class="test-cases">{rows}</ul>
        {editable.then(|| view! {
            <button on:click=move |_| { error.set(None); text.set(TEMPLATE.into()); editing.set(Some(String::new())); }>"Add a case"</button>
        })}
        <Show when=move || editing.get().is_some()>
            <div class="case-editor" role="form" aria-label="Test case">
                <label>{move || if editing.get().unwrap_or_default().is_empty() { "New test case (JSON)" } else { "Test case (JSON)" }}
                    <textarea rows="14" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea></label>
                <div class="actions">
                    <button class="primary" on:click=save.clone()>"Save case"</button>
                    <button class="link" on:click=move |_| editing.set(None)>"Cancel"</button>
                </div>
            </div>
        </Show>
        {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
    }
}

/// "Publishing requires N % of the golden set to pass" (empty: no gate).
#[component]
pub fn GateForm(workflow_id: String, editable: bool) -> impl IntoView {
    let wf = workflow_id.clone();
    let current = Resource::new(|| (), move |_| publish_gate(wf.clone()));
    let value = RwSignal::new(String::new());
    let said = RwSignal::new(None::<Result<String, String>>);
    Effect::new(move |_| {
        if let Some(Ok(g)) = current.get() {
            value.set(g.map(|p| p.to_string()).unwrap_or_default());
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (wf, pct) = (workflow_id.clone(), value.get_untracked());
        leptos::task::spawn_local(async move {
            said.set(Some(match set_publish_gate(wf, pct.clone()).await {
                Ok(()) if pct.trim().is_empty() => {
                    Ok("Publishing no longer needs the golden set.".into())
                }
                Ok(()) => Ok(format!(
                    "Publishing now needs {}% of the cases to pass.",
                    pct.trim()
                )),
                Err(e) => Err(e.message),
            }));
        });
    };
    view! {
        <form class="inline-form compact gate-form" aria-label="Publish gate" on:submit=save>
            <label>"Publishing requires this share of cases to pass (%)"
                <input type="text" inputmode="decimal" placeholder="no gate" disabled=!editable
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) /></label>
            {editable.then(|| view! { <button type="submit">"Save gate"</button> })}
            {move || said.get().map(|r| match r {
                Ok(m) => view! { <p class="ok" role="status">{m}</p> }.into_any(),
                Err(m) => view! { <p class="error" role="alert">{m}</p> }.into_any(),
            })}
        </form>
    }
}
