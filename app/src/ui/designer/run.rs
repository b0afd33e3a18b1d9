//! Running from the designer: the input form (from the Start step's
//! schema), and what Run means for what is on the canvas. With nothing
//! unsaved it runs the saved version; with unsaved edits it offers "Save
//! and run" or a test run of the working copy (kept with the run, marked
//! as a test), never silently the last saved version.

use super::state::Canvas;
use crate::api::runs::{StartRun, StartTestRun};
use crate::domain::NodeKind;
use crate::domain::records::WorkflowVersion;
use crate::error::AppError;
use crate::ui::components::action_error;
use crate::ui::components::schema_form::SchemaForm;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn RunPanel(
    canvas: Canvas,
    workflow_id: String,
    version: RwSignal<i64>,
    dirty: Memo<bool>,
    save: Action<crate::domain::WorkflowDef, Result<WorkflowVersion, AppError>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let start = ServerAction::<StartRun>::new();
    let test = ServerAction::<StartTestRun>::new();
    let input = RwSignal::new(String::new());
    let chaos = RwSignal::new(None::<String>);
    let fault_steps = Signal::derive(move || {
        canvas.def.with(|d| {
            d.nodes
                .iter()
                .filter(|n| crate::domain::chaos::injectable(&n.kind))
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    // a webhook's test event, offered as the input ("Use as sample input")
    let sample = use_context::<crate::ui::pages::triggers::SampleInput>();
    let from_sample = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(text) = sample.and_then(|s| s.0.get()) {
            input.set(text);
            from_sample.set(true);
            open.set(true);
        }
    });
    // "Save and run": the run starts once the save went through
    let run_after_save = RwSignal::new(false);
    let refused = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let nav2 = navigate.clone();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/runs/{id}"), Default::default());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(id)) = test.value().get() {
            nav2(&format!("/runs/{id}"), Default::default());
        }
    });
    let wf = workflow_id.clone();
    Effect::new(move |_| {
        let Some(result) = save.value().get() else {
            return;
        };
        if !run_after_save.get_untracked() {
            return;
        }
        run_after_save.set(false);
        match result {
            Ok(v) if v.problems.is_empty() => {
                start.dispatch(StartRun {
                    workflow_id: wf.clone(),
                    input: input.get_untracked(),
                    chaos: chaos.get_untracked(),
                });
            }
            Ok(v) => refused.set(Some(format!(
                "Saved version {} as a draft with {} problem{}: it cannot run until they are fixed.",
                v.version,
                v.problems.len(),
                if v.problems.len() == 1 { "" } else { "s" }
            ))),
            Err(_) => {}
        }
    });
    let schema = canvas.def.with_untracked(|d| {
        d.nodes.iter().find_map(|n| match &n.kind {
            NodeKind::Start { input_schema } => input_schema.clone(),
            _ => None,
        })
    });
    let problems = Memo::new(move |_| canvas.problems.with(Vec::len));
    let blocked = move || problems.get() != 0;
    let busy = move || {
        start.pending().get()
            || test.pending().get()
            || save.pending().get()
            || run_after_save.get()
    };
    let wf_run = workflow_id.clone();
    let wf_test = workflow_id.clone();
    let run_saved = move |_| {
        refused.set(None);
        start.dispatch(StartRun {
            workflow_id: wf_run.clone(),
            input: input.get_untracked(),
            chaos: chaos.get_untracked(),
        });
    };
    let save_and_run = move |_| {
        refused.set(None);
        run_after_save.set(true);
        save.dispatch(canvas.def.get_untracked());
    };
    let test_run = move |_| {
        refused.set(None);
        test.dispatch(StartTestRun {
            workflow_id: wf_test.clone(),
            definition: canvas
                .def
                .with_untracked(|d| serde_json::to_string(d).unwrap_or_default()),
            input: input.get_untracked(),
        });
    };
    view! {
        <section class="run-panel" role="form" aria-label="Run workflow" hidden=move || !open.get()>
            <div class="inspector-head">
                <h3>"Run"</h3>
                <button class="link" on:click=move |_| open.set(false)>"Close"</button>
            </div>
            <SchemaForm schema out=input />
            <super::chaos::ChaosFields steps=fault_steps out=chaos />
            <Show when=move || from_sample.get()>
                <p class="muted small" data-testid="sample-input">"Input from the webhook's test event (change the form to replace it):"</p>
                <pre class="json">{move || input.get()}</pre>
            </Show>
            {move || blocked().then(|| view! {
                <p class="field-error" role="status">{format!(
                    "The workflow on the canvas has {} problem{}; fix {} to run it.",
                    problems.get(), if problems.get() == 1 { "" } else { "s" }, if problems.get() == 1 { "it" } else { "them" })}</p>
            })}
            <div class="actions">
                <Show when=move || !dirty.get()
                    fallback=move || view! {
                        <p class="muted">"The canvas has unsaved changes."</p>
                        <button class="primary" disabled=move || busy() || blocked() || canvas.read_only()
                            title="Save a new version, then run it" on:click=save_and_run>"Save and run"</button>
                        <button disabled=move || busy() || blocked() || chaos.with(Option::is_some)
                            title="Run what is on the canvas without saving it; the run is marked as a test (faults are injected only into saved versions)"
                            on:click=test_run.clone()>"Test run (unsaved)"</button>
                    }>
                    <button class="primary" disabled=move || busy() || blocked()
                        on:click=run_saved.clone()>{move || format!("Run version {}", version.get())}</button>
                </Show>
            </div>
            {move || refused.get().map(|m| view! { <p class="error-box" role="alert">{m}</p> })}
            {action_error(start.value())}
            {action_error(test.value())}
        </section>
    }
}
