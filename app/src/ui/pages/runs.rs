//! The runs list, and the parts of a run's page (run_page.rs) that show one
//! step: its attempts and retry, and what a re-run changed.

use crate::api::runs::{RetryStep, get_run, list_runs};
use crate::api::workflows::list_workflows;
use crate::domain::records::RunFilter;
use crate::domain::records::is_test_version;
use crate::domain::records::{AttemptRecord, format_time};
use crate::error::AppError;
use crate::ui::components::model_call::{ModelCallView, lineage_line};
use crate::ui::components::{EmptyState, ErrorBox, action_error, day_ms};
use leptos::prelude::*;
use leptos_meta::Title;

pub(super) fn status_badge(status: String) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{status.clone()}</span> }
}

#[component]
pub fn RunsPage() -> impl IntoView {
    let workflows = Resource::new(|| (), |_| list_workflows());
    let tests = RwSignal::new(String::new());
    let (workflow, status, by, from, to, q) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    // keyset paging: where the shown page starts (None: the newest)
    let before = RwSignal::new(None::<(i64, String)>);
    let filter = Memo::new(move |_| {
        RunFilter {
            workflow_id: Some(workflow.get()),
            status: Some(status.get()),
            started_by: Some(by.get()),
            from: day_ms(&from.get()),
            to: day_ms(&to.get()).map(|d| d + 86_400_000),
            q: Some(q.get()),
            test: tests.with(|t| t.parse().ok()),
            before: before.get(),
        }
        .cleaned()
    });
    let page = Resource::new(move || filter.get(), list_runs);
    // a new filter starts again at the newest run
    let reset = move || before.set(None);
    let text = |label: &'static str, sig: RwSignal<String>, kind: &'static str| {
        view! {
            <label>{label}
                <input type=kind prop:value=move || sig.get() on:change=move |ev| { sig.set(event_target_value(&ev)); reset(); } />
            </label>
        }
    };
    view! {
        <Title text="Runs" />
        <h1>"Runs"</h1>
        <div class="filters" role="group" aria-label="Filters">
            <label>"Workflow"
                <select on:change=move |ev| { workflow.set(event_target_value(&ev)); reset(); }>
                    <option value="">"all"</option>
                    <Transition fallback=|| ()>
                        {move || workflows.get().and_then(|r| r.ok()).map(|ws| ws.into_iter().map(|w| view! {
                            <option value=w.id.clone()>{w.name.clone()}</option>
                        }).collect_view())}
                    </Transition>
                </select>
            </label>
            <label>"Status"
                <select on:change=move |ev| { status.set(event_target_value(&ev)); reset(); }>
                    <option value="">"all"</option>
                    {["running", "succeeded", "failed", "cancelled"].map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                </select>
            </label>
            <label>"Test runs"
                <select on:change=move |ev| { tests.set(event_target_value(&ev)); reset(); }>
                    <option value="">"included"</option>
                    <option value="false">"left out"</option>
                    <option value="true">"only"</option>
                </select>
            </label>
            {text("Started by", by, "text")}
            {text("From", from, "date")}
            {text("To", to, "date")}
            {text("Input contains", q, "search")}
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                Ok(p) => {
                    let counts = p.counts.iter().map(|(s, n)| view! {
                        <span class=format!("status status-{s}") data-count=s.clone()>{format!("{s}: {n}")}</span>
                    }).collect_view();
                    let next = p.next.clone();
                    let paged = before.get_untracked().is_some();
                    if p.runs.is_empty() {
                        return view! {
                            <EmptyState title="No runs">
                                <p>"No run matches. Open a workflow and press " <strong>"Run"</strong> " to start one."</p>
                            </EmptyState>
                        }.into_any();
                    }
                    view! {
                        <p class="counts" aria-label="Runs per status">{counts}</p>
                        <table class="table runs">
                            <thead><tr><th>"Run"</th><th>"Workflow"</th><th>"Status"</th><th>"Started"</th><th>"By"</th><th>"How"</th></tr></thead>
                            <tbody>
                                {p.runs.into_iter().map(|(r, name)| view! {
                                    <tr data-run=r.id.to_string()>
                                        <td><a href=format!("/runs/{}", r.id)><code>{r.id.to_string()}</code></a></td>
                                        <td><a href=format!("/workflows/{}", r.workflow_id)>{name}</a> {version_tag(r.version)}</td>
                                        <td>{status_badge(r.status.to_string())}
                                            {r.chaos.as_ref().map(|c| view! { <span class="badge chaos" title=c.summary()>"chaos"</span> })}</td>
                                        <td>{format_time(r.created_at)}</td>
                                        <td>{r.started_by.clone()}</td>
                                        <td data-testid="origin">{match &r.trigger_id {
                                            Some(t) => view! { <a href=format!("/workflows/{}#trigger-{t}", r.workflow_id) title="The trigger that started it">{r.origin.describe()}</a> }.into_any(),
                                            None => match &r.parent_run_id {
                                                // a child names its parent
                                                Some(p) => view! { <a data-testid="parent-link" href=format!("/runs/{p}") title="The run whose step started it">{r.origin.describe()}</a> }.into_any(),
                                                None => r.origin.describe().into_any(),
                                            },
                                        }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <div class="pager">
                            {paged.then(|| view! { <button on:click=move |_| before.set(None)>"Newest"</button> })}
                            {next.map(|n| view! { <button on:click=move |_| before.set(Some(n.clone()))>"Older runs"</button> })}
                        </div>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

pub(super) fn short_json(v: &Option<serde_json::Value>) -> String {
    let s = v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// Large JSON folded away, with a button that copies it.
pub(super) fn json_block(label: &str, v: &Option<serde_json::Value>) -> impl IntoView + use<> {
    let label = label.to_string();
    v.as_ref().map(|v| {
        let text = serde_json::to_string_pretty(v).unwrap_or_default();
        let open = text.len() < 400;
        let copied = RwSignal::new(false);
        let to_copy = text.clone();
        view! {
            <details class="json-block" open=open>
                <summary>{format!("{label} ({} bytes)", text.len())}</summary>
                <button class="link copy" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    {
                        let _ = window().navigator().clipboard().write_text(&to_copy);
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = &to_copy;
                    copied.set(true);
                }>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                <pre class="json">{text}</pre>
            </details>
        }
    })
}

/// The earlier steps whose outputs an attempt's input holds (its lineage).
pub(super) fn lineage(input: &Option<serde_json::Value>) -> Vec<String> {
    input
        .as_ref()
        .and_then(|v| v["steps"].as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

pub(super) fn duration(from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => crate::domain::human_duration((b - a).max(0) as u64),
        (Some(_), None) => "running".into(),
        _ => String::new(),
    }
}

/// One step: every attempt with its resolved input, output, error and
/// timing; its idempotency key; and, when a retry applies to it (`operate`:
/// the caller may and `domain::operations::retry` allows), a retry with an
/// optionally edited input.
#[component]
pub(super) fn StepPanel(
    run_id: String,
    node: String,
    /// For an item run, its place in its For each's list (it is in the key).
    item: Option<crate::domain::records::ItemPlace>,
    attempts: Resource<Result<Vec<AttemptRecord>, AppError>>,
    operate: bool,
) -> impl IntoView {
    let retry = ServerAction::<RetryStep>::new();
    let latest = RwSignal::new(false);
    let edited = RwSignal::new(String::new());
    let node2 = node.clone();
    let run2 = run_id.clone();
    view! {
        <section class="card step-panel" aria-label="Step">
            <h2>"Step " <code>{node.clone()}</code></h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || attempts.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    Ok(all) => {
                        let mine: Vec<AttemptRecord> = all.into_iter().filter(|a| a.node_id == node2).collect();
                        // each pass of a loop sends a key of its own
                        let pass = mine.last().map_or(0, |a| a.pass);
                        let key = crate::domain::records::idempotency_key(&run2, &node2, item.as_ref(), pass);
                        let key_line = view! {
                            <p class="muted">{if pass > 0 { "Idempotency key sent with every attempt of this pass: " } else { "Idempotency key sent with every attempt: " }}
                                <code data-testid="idempotency-key">{key}</code></p>
                        };
                        if let Some(last) = mine.last()
                            && edited.get_untracked().is_empty()
                        {
                            edited.set(last.input.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default()).unwrap_or_default());
                        }
                        view! {
                            {key_line}
                            <ol class="attempts">
                                {mine.into_iter().map(|a| view! {
                                    <li data-attempt=a.attempt>
                                        <p><strong>{if a.pass > 0 {
                                            format!("Attempt {} (pass {}): {}", a.attempt, a.pass + 1, a.outcome)
                                        } else {
                                            format!("Attempt {}: {}", a.attempt, a.outcome)
                                        }}</strong>
                                            {format!(" · {} → {} ({}) · worker {}", format_time(a.started_at), format_time(a.finished_at),
                                                crate::domain::human_duration((a.finished_at - a.started_at).max(0) as u64), a.worker)}
                                            {a.confidence.map(|c| format!(" · confidence {c:.3}"))}</p>
                                        {a.error.clone().map(|e| view! { <p class="error-text">{format!("{} error: {e}", a.error_class.clone().unwrap_or_default())}</p> })}
                                        {
                                            // the step log keeps the steps the step read
                                            let from = lineage(&a.input);
                                            a.input.as_ref().map(|_| view! { <p class="muted" data-testid="lineage">{if from.is_empty() {
                                                "It read the run input and no step's output".to_string()
                                            } else {
                                                format!("It read the outputs of: {}", from.join(", "))
                                            }}</p> })
                                        }
                                        {a.lineage.as_ref().map(|l| view! { <p class="muted small" data-testid="lineage-hashes">{lineage_line(l)}</p> })}
                                        {a.model_call.clone().map(|call| view! { <ModelCallView call /> })}
                                        {crate::ui::components::console::console_lines(a.console.clone())}
                                        {json_block("Input", &a.input)}
                                        {json_block("Output", &a.output)}
                                    </li>
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }
                })}
            </Transition>
            {operate.then(|| {
                let (run_id, node) = (run_id.clone(), node.clone());
                view! {
                    <details class="retry">
                        <summary>"Retry this step"</summary>
                        <p class="muted">"Runs a failed step again and reopens the run; edit its input first if needed."</p>
                        <textarea rows="6" spellcheck="false" aria-label="Input for the retry" prop:value=move || edited.get()
                            on:input=move |ev| edited.set(event_target_value(&ev))></textarea>
                        <label class="check"><input type="checkbox" prop:checked=move || latest.get()
                            on:change=move |ev| latest.set(event_target_checked(&ev)) />
                            " On the workflow's latest version (when the fix was in the workflow; it must have the same steps)"</label>
                        <button class="primary" on:click=move |_| {
                            retry.dispatch(RetryStep { id: run_id.clone(), node_id: node.clone(), input: edited.get_untracked(), latest: latest.get_untracked() });
                        }>"Retry"</button>
                        {action_error(retry.value())}
                    </details>
                }
            })}
        </section>
    }
}

/// For a re-run: step by step, whether its output is the same as in the
/// run it repeats.
#[component]
pub(super) fn RerunDiff(
    original: String,
    steps: Vec<(String, Option<serde_json::Value>)>,
) -> impl IntoView {
    let before = Resource::new(move || original.clone(), get_run);
    view! {
        <section class="card rerun-diff" aria-label="Compared with the original run">
            <h2>"Compared with the original run"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {
                    let steps = steps.clone();
                    move || before.get().map(|r| match r {
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                        Ok(old) => {
                            let rows = steps.iter().map(|(node, now)| {
                                let was = old.steps.iter().find(|s| &s.node_id == node).and_then(|s| s.output.clone());
                                let verdict = match (&was, now) {
                                    (None, None) => "no output either time",
                                    (a, b) if a == b => "same output",
                                    (None, Some(_)) => "new output",
                                    (Some(_), None) => "no output this time",
                                    _ => "different output",
                                };
                                view! {
                                    <tr data-step=node.clone() class:differs=verdict != "same output" && verdict != "no output either time">
                                        <td><code>{node.clone()}</code></td>
                                        <td>{verdict}</td>
                                        <td class="summary">{short_json(&was)}</td>
                                        <td class="summary">{short_json(now)}</td>
                                    </tr>
                                }
                            }).collect_view();
                            view! {
                                <table class="table">
                                    <thead><tr><th>"Step"</th><th>"Compared"</th><th>"Then"</th><th>"Now"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }.into_any()
                        }
                    })
                }
            </Transition>
        </section>
    }
}

/// A run's version as the list shows it: `v3`, or a test run's badge.
pub(super) fn version_tag(v: i64) -> AnyView {
    if is_test_version(v) {
        view! { <span class="badge test">"test"</span> }.into_any()
    } else {
        view! { <span class="muted">{format!(" v{v}")}</span> }.into_any()
    }
}
