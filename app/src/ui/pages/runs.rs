//! The runs list and one run's steps (the rich run view comes later).

use crate::api::runs::{CancelRun, RerunRun, RetryStep, get_attempts, get_run, list_runs};
use crate::api::workflows::{get_workflow, list_workflows};
use crate::domain::auth::Permission;
use crate::domain::records::RunFilter;
use crate::domain::records::is_test_version;
use crate::domain::records::{AttemptRecord, RunDetail, format_time};
use crate::error::AppError;
use crate::ui::auth::can;
use crate::ui::components::live::live_on;
use crate::ui::components::{EmptyState, ErrorBox, action_error, day_ms};
use crate::ui::designer::RunGraph;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn status_badge(status: String) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{status.clone()}</span> }
}

#[component]
pub fn RunsPage() -> impl IntoView {
    let workflows = Resource::new(|| (), |_| list_workflows());
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
                            <thead><tr><th>"Run"</th><th>"Workflow"</th><th>"Status"</th><th>"Started"</th><th>"By"</th></tr></thead>
                            <tbody>
                                {p.runs.into_iter().map(|(r, name)| view! {
                                    <tr data-run=r.id.to_string()>
                                        <td><a href=format!("/runs/{}", r.id)><code>{r.id.to_string()}</code></a></td>
                                        <td><a href=format!("/workflows/{}", r.workflow_id)>{name}</a> {version_tag(r.version)}</td>
                                        <td>{status_badge(r.status.to_string())}</td>
                                        <td>{format_time(r.created_at)}</td>
                                        <td>{r.started_by.clone()}</td>
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

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // the server says when this run moves on (server-sent events); a slow
    // poll covers a dropped stream
    let tick = live_on(format!("run:{}", id()), "run", 5_000);
    let run = Resource::new(move || (id(), tick.get()), |(id, _)| get_run(id));
    let attempts = Resource::new(move || (id(), tick.get()), |(id, _)| get_attempts(id));
    let selected = RwSignal::new(None::<String>);
    // the graph of the version this run runs, loaded once per run
    let version = Resource::new(id, |id| async move {
        let d = get_run(id).await?;
        get_workflow(d.run.workflow_id, Some(d.run.version)).await
    });
    let statuses = Signal::derive(move || {
        run.get()
            .and_then(|r| r.ok())
            .map(|d| {
                d.steps
                    .into_iter()
                    .map(|s| (s.node_id, (s.status.to_string(), s.attempt)))
                    .collect()
            })
            .unwrap_or_default()
    });
    view! {
        <Title text="Run" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || run.get().map(|r| match r {
                Ok(detail) => view! { <RunDetailView detail attempts selected /> }.into_any(),
                Err(e) => view! { <h1>"Run"</h1> <ErrorBox error=e /> }.into_any(),
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || version.get().and_then(|r| r.ok()).map(|w| view! {
                <RunGraph def=w.definition statuses />
            })}
        </Transition>
    }
}

fn short_json(v: &Option<serde_json::Value>) -> String {
    let s = v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// Large JSON folded away, with a button that copies it.
fn json_block(label: &str, v: &Option<serde_json::Value>) -> impl IntoView + use<> {
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
fn lineage(input: &Option<serde_json::Value>) -> Vec<String> {
    input
        .as_ref()
        .and_then(|v| v["steps"].as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn duration(from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => crate::domain::human_duration((b - a).max(0) as u64),
        (Some(_), None) => "running".into(),
        _ => String::new(),
    }
}

#[component]
fn RunDetailView(
    detail: RunDetail,
    attempts: Resource<Result<Vec<AttemptRecord>, AppError>>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let r = detail.run;
    let operate = can(Permission::OperateRuns);
    let running = crate::domain::operations::cancel(r.status).is_ok();
    // the steps a retry applies to (the rest offer none)
    let retryable: Vec<String> = detail
        .steps
        .iter()
        .filter(|s| crate::domain::operations::retry(r.status, &detail.steps, &s.node_id).is_ok())
        .map(|s| s.node_id.clone())
        .collect();
    let cancel = ServerAction::<CancelRun>::new();
    let rerun = ServerAction::<RerunRun>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = rerun.value().get() {
            navigate(&format!("/runs/{id}"), Default::default());
        }
    });
    let (id_c, id_r1, id_r2) = (r.id.to_string(), r.id.to_string(), r.id.to_string());
    // the timeline needs the attempt log; it is drawn when that arrives
    let timeline_steps = detail.steps.clone();
    let (t0, run_end) = (r.created_at, r.finished_at);
    let timeline = move || {
        let log = attempts.get().and_then(Result::ok).unwrap_or_default();
        let rows = super::timeline::rows(&timeline_steps, &log, t0, run_end);
        view! { <super::timeline::Timeline rows /> }
    };
    let run_id = r.id.to_string();
    let steps_now: Vec<(String, Option<serde_json::Value>)> = detail
        .steps
        .iter()
        .map(|s| (s.node_id.clone(), s.output.clone()))
        .collect();
    view! {
        <p class="crumbs"><a href="/runs">"Runs"</a> " / " <a href=format!("/workflows/{}", r.workflow_id)>"workflow"</a></p>
        <div class="page-head">
            <h1>"Run " <code>{r.id.to_string()}</code></h1>
            <span data-testid="run-status">{status_badge(r.status.to_string())}</span>
            {(operate && running).then(|| view! {
                <button class="danger" on:click=move |_| { cancel.dispatch(CancelRun { id: id_c.clone() }); }>"Cancel run"</button>
            })}
            {operate.then(|| view! {
                <button on:click=move |_| { rerun.dispatch(RerunRun { id: id_r1.clone(), latest: false }); }>"Re-run"</button>
                <button on:click=move |_| { rerun.dispatch(RerunRun { id: id_r2.clone(), latest: true }); }>"Re-run on the latest version"</button>
            })}
        </div>
        {action_error(cancel.value())}
        {action_error(rerun.value())}
        <section class="card run-facts">
            {is_test_version(r.version).then(|| view! {
                <p class="badge test" data-testid="test-run">"Test run of an unsaved working copy (kept with the run)"</p>
            })}
            <p>{format!("{} · started {} by {}", if is_test_version(r.version) { "Unsaved copy".to_string() } else { format!("Version {}", r.version) }, format_time(r.created_at), r.started_by)}
               {r.finished_at.map(|t| format!(" · finished {} ({})", format_time(t), duration(Some(r.created_at), Some(t))))}
               {r.rerun_of.clone().map(|o| view! { " · re-run of " <a href=format!("/runs/{o}")><code>{o.to_string()}</code></a> })}
               " · " <a href=format!("/audit?run={}", r.id)>"audit trail of this run"</a></p>
            {r.confidence.map(|c| view! { <p>"Cumulative confidence: " <strong>{format!("{c:.3}")}</strong></p> })}
            {r.error.clone().map(|e| view! { <p class="error-text" role="alert">{e}</p> })}
            <p>"Input: " <code>{r.input.to_string()}</code></p>
            {r.output.clone().map(|o| view! { <p>"Output: " <code data-testid="run-output">{o.to_string()}</code></p> })}
        </section>
        <section class="card timeline" aria-label="Timeline">
            <h2>"Timeline"</h2>
            <Transition fallback=|| ()>{timeline}</Transition>
        </section>
        <table class="table steps">
            <thead><tr><th>"Step"</th><th>"Status"</th><th>"Attempt"</th><th>"Took"</th><th>"Confidence"</th><th>"Output or error"</th><th></th></tr></thead>
            <tbody>
                {detail.steps.into_iter().map(|s| {
                    let node = s.node_id.clone();
                    let retrying = s.status.to_string() == "ready" && s.error.is_some();
                    view! {
                        <tr data-step=s.node_id.clone() class:selected=move || selected.get().as_deref() == Some(node.as_str())>
                            <td><code>{s.node_id.clone()}</code></td>
                            <td>{status_badge(s.status.to_string())}
                                {retrying.then(|| view! { <div class="muted small" data-testid="retrying">{format!("retrying at {}", format_time(s.not_before))}</div> })}</td>
                            <td>{s.attempt}</td>
                            <td>{duration(s.started_at, s.finished_at)}</td>
                            <td>{s.confidence.map(|c| format!("{c:.3}")).unwrap_or_default()}
                                {s.cum_confidence.map(|c| format!(" (run {c:.3})"))}</td>
                            <td class="summary">{match &s.error {
                                Some(e) => format!("{} error: {e}", s.error_class.clone().unwrap_or_default()),
                                None => short_json(&s.output),
                            }}</td>
                            <td>{
                                let n = s.node_id.clone();
                                view! { <button class="link" on:click=move |_| selected.set(Some(n.clone()))>"Details"</button> }
                            }</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {move || selected.get().map(|node| {
            let operate = operate && retryable.contains(&node);
            view! { <StepPanel run_id=run_id.clone() node attempts operate /> }
        })}
        {r.rerun_of.clone().map(|original| view! { <RerunDiff original=original.to_string() steps=steps_now.clone() /> })}
    }
}

/// One step: every attempt with its resolved input, output, error and
/// timing; its idempotency key; and, when a retry applies to it (`operate`:
/// the caller may and `domain::operations::retry` allows), a retry with an
/// optionally edited input.
#[component]
fn StepPanel(
    run_id: String,
    node: String,
    attempts: Resource<Result<Vec<AttemptRecord>, AppError>>,
    operate: bool,
) -> impl IntoView {
    let retry = ServerAction::<RetryStep>::new();
    let edited = RwSignal::new(String::new());
    let key = format!("{run_id}:{node}");
    let node2 = node.clone();
    view! {
        <section class="card step-panel" aria-label="Step">
            <h2>"Step " <code>{node.clone()}</code></h2>
            <p class="muted">"Idempotency key sent with every attempt: " <code>{key}</code></p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || attempts.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    Ok(all) => {
                        let mine: Vec<AttemptRecord> = all.into_iter().filter(|a| a.node_id == node2).collect();
                        if let Some(last) = mine.last()
                            && edited.get_untracked().is_empty()
                        {
                            edited.set(last.input.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default()).unwrap_or_default());
                        }
                        view! {
                            <ol class="attempts">
                                {mine.into_iter().map(|a| view! {
                                    <li data-attempt=a.attempt>
                                        <p><strong>{format!("Attempt {}: {}", a.attempt, a.outcome)}</strong>
                                            {format!(" · {} → {} ({}) · worker {}", format_time(a.started_at), format_time(a.finished_at),
                                                crate::domain::human_duration((a.finished_at - a.started_at).max(0) as u64), a.worker)}
                                            {a.confidence.map(|c| format!(" · confidence {c:.3}"))}</p>
                                        {a.error.clone().map(|e| view! { <p class="error-text">{format!("{} error: {e}", a.error_class.clone().unwrap_or_default())}</p> })}
                                        {
                                            let from = lineage(&a.input);
                                            (!from.is_empty()).then(|| view! { <p class="muted" data-testid="lineage">{format!("Its input holds the outputs of: {}", from.join(", "))}</p> })
                                        }
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
                        <button class="primary" on:click=move |_| {
                            retry.dispatch(RetryStep { id: run_id.clone(), node_id: node.clone(), input: edited.get_untracked() });
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
fn RerunDiff(original: String, steps: Vec<(String, Option<serde_json::Value>)>) -> impl IntoView {
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
fn version_tag(v: i64) -> AnyView {
    if is_test_version(v) {
        view! { <span class="badge test">"test"</span> }.into_any()
    } else {
        view! { <span class="muted">{format!(" v{v}")}</span> }.into_any()
    }
}
