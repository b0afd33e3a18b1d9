//! "Test step": runs the selected step of the working copy once over
//! sample data (the newest run's, or typed), without starting a run, and
//! shows its output, port, confidence, error and time. A step that would
//! change something elsewhere (an Http POST, …) asks first.

use super::super::state::Canvas;
use crate::api::workflows::TestStep;
use crate::domain::step_test::{may_test, side_effect};
use crate::ui::components::action_error;
use crate::ui::components::model_call::ModelCallView;
use crate::ui::components::values::ValueTable;
use leptos::prelude::*;
use serde_json::{Map, Value, json};

/// The sample data from a run: its input and every step's output.
fn sample_of(run: Option<&crate::domain::records::RunDetail>) -> String {
    let v = match run {
        Some(r) => {
            let steps: Map<String, Value> = r
                .steps
                .iter()
                .filter_map(|s| Some((s.node_id.clone(), json!({"output": s.output.clone()?}))))
                .collect();
            json!({"input": r.run.input, "steps": steps})
        }
        None => json!({"input": {}, "steps": {}}),
    };
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

#[component]
pub fn TestStepPanel(canvas: Canvas, id: String) -> impl IntoView {
    let kind = canvas
        .def
        .with_untracked(|d| d.node(&id).map(|n| n.kind.clone()));
    let Some(kind) = kind else {
        return ().into_any();
    };
    if let Err(why) = may_test(&kind, true) {
        return view! { <details class="test-step"><summary>"Test step"</summary><p class="muted">{why}</p></details> }
            .into_any();
    }
    let workflow = canvas.workflow_id.get_untracked().unwrap_or_default();
    let sample = RwSignal::new(String::new());
    let w2 = workflow.clone();
    // the newest run's data, once, as the starting sample
    let latest = LocalResource::new(move || {
        let w = w2.clone();
        async move { crate::api::runs::latest_run(w).await.ok().flatten() }
    });
    Effect::new(move |_| {
        if let Some(run) = latest.get()
            && sample.get_untracked().is_empty()
        {
            sample.set(sample_of(run.as_ref()));
        }
    });
    // a webhook's test event, once offered as sample input
    if let Some(s) = use_context::<crate::ui::pages::triggers::SampleInput>() {
        Effect::new(move |_| {
            if let Some(text) = s.0.get() {
                let input: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let v = json!({"input": input, "steps": {}});
                sample.set(serde_json::to_string_pretty(&v).unwrap_or_default());
            }
        });
    }
    let action = ServerAction::<TestStep>::new();
    let asking = RwSignal::new(None::<String>);
    let node = id.clone();
    let send = move |confirmed: bool| {
        asking.set(None);
        action.dispatch(TestStep {
            workflow_id: workflow.clone(),
            definition: canvas
                .def
                .with_untracked(|d| serde_json::to_string(d).unwrap_or_default()),
            node_id: node.clone(),
            context: sample.get_untracked(),
            confirmed,
        });
    };
    let send2 = send.clone();
    let id_kind = id.clone();
    let start = move |_| {
        // what it would do elsewhere is asked about with the step as it is now
        let effect = canvas
            .def
            .with_untracked(|d| d.node(&id_kind).and_then(|n| side_effect(&n.kind)));
        match effect {
            Some(what) => asking.set(Some(what)),
            None => send(false),
        }
    };
    view! {
        <details class="test-step">
            <summary>"Test step"</summary>
            <p class="muted small">"Runs this step once, as it is on the canvas, over the sample data; no run is started."</p>
            <label>"Sample data (input and earlier steps' outputs)"
                <textarea rows="6" spellcheck="false" prop:value=move || sample.get()
                    on:input=move |ev| sample.set(event_target_value(&ev))></textarea>
            </label>
            {super::llm::prompt_preview(canvas, id.clone(), sample)}
            <button on:click=start disabled=move || action.pending().get()>"Test step"</button>
            {move || asking.get().map(|what| {
                let send = send2.clone();
                view! {
                    <div class="confirm" role="alertdialog" aria-label="Send it?">
                        <p>{format!("{what}. Send it?")}</p>
                        <button class="danger" on:click=move |_| send(true)>"Send it"</button>
                        <button on:click=move |_| asking.set(None)>"Cancel"</button>
                    </div>
                }
            })}
            {action_error(action.value())}
            {move || action.value().get().and_then(Result::ok).map(|r| {
                let head = match (&r.error, &r.port) {
                    (Some(e), _) => format!("{} error after {} ms: {e}", r.error_class.clone().unwrap_or_default(), r.took_ms),
                    (None, Some(p)) => format!("Succeeded in {} ms, leaving by '{p}'", r.took_ms),
                    (None, None) => format!("Finished in {} ms", r.took_ms),
                };
                let confidence = match &r.call {
                    // an LLM step's call says it, with its method
                    Some(_) => None,
                    None => r.confidence.map(|c| view! { <p>{format!("Confidence {c:.3}")}</p> }),
                };
                view! {
                    <div class="test-result" data-testid="test-result">
                        <p class:error-text=r.error.is_some()>{head}</p>
                        {confidence}
                        {r.output.map(|o| view! { <ValueTable value=o label="Test output" /> })}
                        {r.call.map(|call| view! { <ModelCallView call /> })}
                        {crate::ui::components::console::console_lines(r.console)}
                    </div>
                }
            })}
        </details>
    }
    .into_any()
}
