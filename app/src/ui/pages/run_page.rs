//! One run, for the people who follow it: titled by its workflow and
//! number, the graph first (each step's state on it), the output the End
//! step mapped (the whole context behind a toggle), then the steps by name
//! with their real attempt counts, the timeline and each step's details.

use super::runs::{RerunDiff, StepPanel, duration, short_json, status_badge};
use crate::api::runs::{CancelRun, RerunRun, get_attempts, get_run};
use crate::api::workflows::get_workflow;
use crate::domain::auth::Permission;
use crate::domain::records::{AttemptRecord, RunDetail, format_time, is_test_version};
use crate::error::AppError;
use crate::ui::auth::can;
use crate::ui::components::live::live_on;
use crate::ui::components::values::ValueTable;
use crate::ui::components::{ErrorBox, action_error};
use crate::ui::designer::RunGraph;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

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
                    .iter()
                    .map(|s| (s.node_id.clone(), (s.status.to_string(), d.attempts_of(s))))
                    .collect()
            })
            .unwrap_or_default()
    });
    view! {
        <Transition fallback=|| view! { <Title text="Run" /> <p class="muted">"Loading…"</p> }>
            {move || run.get().map(|r| match r {
                Ok(detail) => view! { <RunHead detail /> }.into_any(),
                Err(e) => view! { <Title text="Run" /> <h1>"Run"</h1> <ErrorBox error=e /> }.into_any(),
            })}
        </Transition>
        <Transition fallback=|| ()>
            <SaveFromRun run />
        </Transition>
        <Transition fallback=|| ()>
            {move || version.get().and_then(|r| r.ok()).map(|w| view! {
                <RunGraph def=w.definition statuses />
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || run.get().and_then(|r| r.ok()).map(|detail| view! {
                <RunDetailView detail attempts selected />
            })}
        </Transition>
    }
}

/// "Invoice approval · run 12", its state and what may be done with it.
#[component]
fn RunHead(detail: RunDetail) -> impl IntoView {
    let r = detail.run;
    let operate = can(Permission::OperateRuns);
    let running = crate::domain::operations::cancel(r.status).is_ok();
    let cancel = ServerAction::<CancelRun>::new();
    let rerun = ServerAction::<RerunRun>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = rerun.value().get() {
            navigate(&format!("/runs/{id}"), Default::default());
        }
    });
    let (id_c, id_r1, id_r2) = (r.id.to_string(), r.id.to_string(), r.id.to_string());
    let name = if detail.workflow_name.is_empty() {
        "Run".to_string()
    } else {
        detail.workflow_name.clone()
    };
    let title = match &r.item {
        Some(i) => format!("{name} · run {} · item {}", detail.number, i.path),
        None => format!("{name} · run {}", detail.number),
    };
    view! {
        <Title text=title.clone() />
        <p class="crumbs"><a href="/runs">"Runs"</a> " / "
            <a href=format!("/workflows/{}", r.workflow_id)>{name}</a></p>
        <div class="page-head">
            <h1>{title}</h1>
            <span data-testid="run-status">{status_badge(r.status.to_string())}</span>
            {(operate && running).then(|| view! {
                <button class="danger" on:click=move |_| { cancel.dispatch(CancelRun { id: id_c.clone() }); }>"Cancel run"</button>
            })}
            {operate.then(|| view! {
                <button on:click=move |_| { rerun.dispatch(RerunRun { id: id_r1.clone(), latest: false }); }>"Re-run"</button>
                <button on:click=move |_| { rerun.dispatch(RerunRun { id: id_r2.clone(), latest: true }); }>"Re-run on the latest version"</button>
            })}
        </div>
        <p class="muted small">"Run " <code data-testid="run-id">{r.id.to_string()}</code></p>
        {action_error(cancel.value())}
        {action_error(rerun.value())}
    }
}

/// An ended run's "Save as test case" form. The page refreshes its run
/// (a live event, a slow poll) and draws its head again each time; the
/// form is drawn only when the run's id or whether it can be saved
/// changes, so a name being typed, its focus and the answer to saving it
/// stay.
#[component]
fn SaveFromRun(run: Resource<Result<RunDetail, AppError>>) -> impl IntoView {
    let saveable = Memo::new(move |_| {
        run.get().and_then(|r| r.ok()).map(|d| {
            let ended = crate::domain::operations::cancel(d.run.status).is_err();
            (d.run.id.to_string(), ended)
        })
    });
    move || {
        saveable
            .get()
            .filter(|(_, ended)| *ended && can(Permission::EditWorkflows))
            .map(|(id, _)| {
                view! { <super::golden::SaveAsCase from=super::golden::Source::Run(id) /> }
            })
    }
}

#[component]
fn RunDetailView(
    detail: RunDetail,
    attempts: Resource<Result<Vec<AttemptRecord>, AppError>>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let operate = can(Permission::OperateRuns);
    // the steps a retry applies to (the rest offer none)
    let retryable: Vec<String> = detail
        .steps
        .iter()
        .filter(|s| {
            crate::domain::operations::retry(detail.run.status, &detail.steps, &s.node_id).is_ok()
        })
        .map(|s| s.node_id.clone())
        .collect();
    // the timeline needs the attempt log; it is drawn when that arrives
    let timeline_steps = detail.steps.clone();
    let r = detail.run.clone();
    let item = r.item.clone();
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
    let test = is_test_version(r.version);
    let context: serde_json::Map<String, serde_json::Value> = detail
        .steps
        .iter()
        .filter_map(|s| Some((s.node_id.clone(), s.output.clone()?)))
        .collect();
    let rows = detail
        .steps
        .iter()
        .map(|s| {
            let node = s.node_id.clone();
            let retrying = s.status.to_string() == "ready" && s.error.is_some();
            let n = s.node_id.clone();
            view! {
                <tr data-step=s.node_id.clone() class:selected=move || selected.get().as_deref() == Some(node.as_str())>
                    <td>{detail.name_of(&s.node_id).to_string()} <code class="muted">{s.node_id.clone()}</code>
                        {detail.children.get(&s.node_id).map(|c| view! { " " <a data-testid="child-run" href=format!("/runs/{c}")>"child run"</a> })}</td>
                    <td>{status_badge(s.status.to_string())}
                        {retrying.then(|| view! { <div class="muted small" data-testid="retrying">{format!("retrying at {}", format_time(s.not_before))}</div> })}</td>
                    <td>{detail.attempts_of(s)}
                        {(s.pass > 0).then(|| view! { <div class="muted small" data-testid="pass">{format!("pass {}", s.pass + 1)}</div> })}</td>
                    <td>{duration(s.started_at, s.finished_at)}</td>
                    <td>{s.confidence.map(|c| format!("{c:.3}")).unwrap_or_default()}
                        {s.cum_confidence.filter(|_| s.confidence.is_some()).map(|c| format!(" (run {c:.3})"))}</td>
                    <td class="summary">{match &s.error {
                        Some(e) => format!("{} error: {e}", s.error_class.clone().unwrap_or_default()),
                        None => short_json(&s.output),
                    }}</td>
                    <td><button class="link" on:click=move |_| selected.set(Some(n.clone()))>"Details"</button></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card run-facts">
            {test.then(|| view! {
                <p class="badge test" data-testid="test-run">"Test run of an unsaved working copy (kept with the run)"</p>
            })}
            {r.chaos.as_ref().map(|c| view! {
                <p class="badge chaos" data-testid="chaos-run">{format!("Chaos run: faults injected ({}); left out of monitoring", c.summary())}</p>
            })}
            <p>{format!("{} · started {} by {} {}", if test { "Unsaved copy".to_string() } else { format!("Version {}", r.version) }, format_time(r.created_at), r.started_by, r.origin.describe()).trim_end().to_string()}
               {r.finished_at.map(|t| format!(" · finished {} ({})", format_time(t), duration(Some(r.created_at), Some(t))))}
               {r.rerun_of.clone().map(|o| view! { " · re-run of " <a href=format!("/runs/{o}")><code>{o.to_string()}</code></a> })}
               {r.trigger_id.clone().map(|t| view! { " · " <a data-testid="trigger-link" href=format!("/workflows/{}#trigger-{t}", r.workflow_id)>"its trigger"</a> })}
               {r.parent_run_id.clone().map(|p| view! {
                   {match &r.item { Some(i) => format!(" · item {} of step ", i.index), None => " · for step ".to_string() }}
                   <code>{r.parent_node_id.clone().unwrap_or_default()}</code> " of " <a data-testid="parent-run" href=format!("/runs/{p}")>"its parent run"</a> })}
               " · " <a href=format!("/audit?run={}", r.id)>"audit trail of this run"</a></p>
            {r.confidence.filter(|c| *c < 1.0).map(|c| view! { <p>"Cumulative confidence: " <strong>{format!("{c:.3}")}</strong></p> })}
            {detail.usage.clone().map(|u| view! {
                <p data-testid="run-usage">"Model use: " {crate::ui::components::model_call::usage_text(
                    u.tokens_in.max(0) as u64, u.tokens_out.max(0) as u64, u.requests.max(0) as u64, u.cost)}</p>
            })}
            {r.error.clone().map(|e| view! { <p class="error-text" role="alert">{e}</p> })}
            <div class="io">
                <div><h3>"Input"</h3><ValueTable value=r.input.clone() label="Run input" /></div>
                {r.output.clone().map(|o| view! {
                    <div><h3>"Output"</h3>
                        <ValueTable value=o.clone() label="Run output" no_json=true />
                        <details class="json-block"><summary>"Output as JSON"</summary>
                            <code data-testid="run-output">{o.to_string()}</code></details>
                    </div>
                })}
            </div>
            <details class="json-block"><summary>"Everything the steps produced (the context)"</summary>
                <pre class="json small">{serde_json::to_string_pretty(&context).unwrap_or_default()}</pre></details>
        </section>
        <table class="table steps">
            <thead><tr><th>"Step"</th><th>"Status"</th><th>"Attempts"</th><th>"Took"</th><th>"Confidence"</th><th>"Output or error"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {detail.iterations.iter().map(|(node, it)| view! {
            <super::run_items::RunItems run_id=r.id.to_string() node=node.clone()
                name=detail.name_of(node).to_string() it=it.clone() />
        }).collect_view()}
        <section class="card timeline" aria-label="Timeline">
            <h2>"Timeline"</h2>
            <Transition fallback=|| ()>{timeline}</Transition>
        </section>
        {move || selected.get().map(|node| {
            let operate = operate && retryable.contains(&node);
            view! { <StepPanel run_id=run_id.clone() node item=item.clone() attempts operate /> }
        })}
        {r.rerun_of.clone().map(|original| view! { <RerunDiff original=original.to_string() steps=steps_now.clone() /> })}
    }
}
