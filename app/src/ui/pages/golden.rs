//! The Golden set panel of a workflow: its test cases, and running the
//! latest version against them with the report (each case, what failed,
//! where the output differs).

use crate::api::golden::{golden_report, list_test_cases, run_golden_set};
use crate::domain::golden::judge::CaseResult;
use crate::domain::golden::report::SuiteReport;
use crate::ui::components::EmptyState;
use crate::ui::components::live::every;
use leptos::prelude::*;

#[component]
pub fn GoldenPanel(workflow_id: String, editable: bool) -> impl IntoView {
    let wf = workflow_id.clone();
    let changed = RwSignal::new(0u32);
    let cases = Resource::new(move || changed.get(), move |_| list_test_cases(wf.clone()));
    let wf_list = workflow_id.clone();
    let wf_gate = workflow_id.clone();
    let suite = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let finished = RwSignal::new(false);
    let tick = every(1000);
    let report = Resource::new(
        move || (suite.get(), if finished.get() { 0 } else { tick.get() }),
        |(suite, _)| async move {
            match suite {
                Some(id) => golden_report(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(Some(r))) = report.get() {
            finished.set(r.finished);
        }
    });
    let wf_run = workflow_id.clone();
    let run = move |_| {
        let wf = wf_run.clone();
        error.set(None);
        finished.set(false);
        leptos::task::spawn_local(async move {
            match run_golden_set(wf).await {
                Ok(s) => suite.set(Some(s.suite_id)),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="card golden" aria-label="Golden set">
            <div class="section-head">
                <h2>"Golden set"</h2>
                {editable.then(|| view! {
                    <div class="actions"><button on:click=run>"Run golden set"</button></div>
                })}
            </div>
            <p class="muted">"Test cases: an input and what must hold. A run of the golden set answers calls out from the cases' recordings and decides for people as the cases say."</p>
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <Transition fallback=|| ()>
                {move || cases.get().map(|r| match r {
                    Ok(all) => view! {
                        {all.is_empty().then(|| view! {
                            <EmptyState title="No test cases"><p>"Save an ended run as a test case from its page, or add one here."</p></EmptyState>
                        })}
                        <super::golden_cases::CaseList workflow_id=wf_list.clone() cases=all editable changed />
                    }.into_any(),
                    Err(e) => view! { <crate::ui::components::ErrorBox error=e /> }.into_any(),
                })}
            </Transition>
            <super::golden_cases::GateForm workflow_id=wf_gate editable />
            <Transition fallback=|| ()>
                {move || report.get().and_then(|r| r.ok()).flatten().map(|r| view! { <Report r /> })}
            </Transition>
        </section>
    }
}

#[component]
fn Report(r: SuiteReport) -> impl IntoView {
    let summary = if r.finished {
        format!(
            "{} of {} cases passed on version {} ({:.0} %); a person would have been asked in {:.0} %",
            r.totals.passed, r.totals.total, r.version, r.totals.pass_pct, r.totals.escalation_pct
        )
    } else {
        format!(
            "Running on version {}: {} case(s) left…",
            r.version, r.pending
        )
    };
    let published = r.published.map(|p| {
        format!(
            "The published version {} passed {:.0} %.",
            p.version, p.totals.pass_pct
        )
    });
    view! {
        <div class="golden-report" data-testid="golden-report">
            <p data-testid="golden-summary">{summary}</p>
            {published.map(|p| view! { <p class="muted">{p}</p> })}
            <table class="golden-cases">
                <thead><tr><th>"Case"</th><th>"Result"</th><th>"What failed"</th></tr></thead>
                <tbody>
                    {r.cases.into_iter().map(|c| view! { <CaseRow c /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn CaseRow(c: CaseResult) -> impl IntoView {
    let outcome = if c.passed { "passed" } else { "failed" };
    view! {
        <tr data-outcome=outcome>
            <td><a href=format!("/runs/{}", c.run_id)>{c.name.clone()}</a></td>
            <td>{outcome}</td>
            <td>
                {c.failures.into_iter().map(|f| view! {
                    <div class="failure">
                        <p>{f.what.clone()}</p>
                        {(!f.diff.is_empty()).then(|| view! {
                            <table class="diff">
                                <thead><tr><th>"Where"</th><th>"Expected"</th><th>"Actual"</th></tr></thead>
                                <tbody>
                                    {f.diff.into_iter().map(|d| view! {
                                        <tr>
                                            <td><code>{d.path}</code></td>
                                            <td><code>{d.expected.map_or("(none)".to_string(), |v| v.to_string())}</code></td>
                                            <td><code>{d.actual.map_or("(none)".to_string(), |v| v.to_string())}</code></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        })}
                    </div>
                }).collect_view()}
            </td>
        </tr>
    }
}

/// What a test case is saved from.
#[derive(Clone)]
pub enum Source {
    /// An ended run.
    Run(String),
    /// A decided approval item.
    Item(String),
}

/// On an ended run's page or a decided item's: save it as a test case of
/// its workflow.
#[component]
pub fn SaveAsCase(from: Source) -> impl IntoView {
    let from_run = ServerAction::<crate::api::golden::SaveTestCase>::new();
    let from_item = ServerAction::<crate::api::golden::SaveItemAsCase>::new();
    let name = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = name.get_untracked();
        match from.clone() {
            Source::Run(run_id) => {
                from_run.dispatch(crate::api::golden::SaveTestCase { run_id, name });
            }
            Source::Item(item_id) => {
                from_item.dispatch(crate::api::golden::SaveItemAsCase { item_id, name });
            }
        }
    };
    let answer = move || from_run.value().get().or_else(|| from_item.value().get());
    view! {
        <form class="save-case" aria-label="Save as test case" on:submit=submit>
            <label>"Test case name"
                <input type="text" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) /></label>
            <button type="submit">"Save as test case"</button>
            {move || answer().map(|r| match r {
                Ok(c) => view! { <p class="ok" role="status">{format!("Saved as test case '{}'", c.spec.name)}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
            })}
        </form>
    }
}
