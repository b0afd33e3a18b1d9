//! The runs list and one run's steps (the rich run view comes later).

use crate::api::runs::{get_run, list_runs};
use crate::domain::records::{RunDetail, format_time};
use crate::domain::run::RunStatus;
use crate::ui::components::{EmptyState, ErrorBox, resource_list};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn status_badge(status: String) -> impl IntoView {
    view! { <span class=format!("status status-{status}")>{status.clone()}</span> }
}

#[component]
pub fn RunsPage() -> impl IntoView {
    let runs = Resource::new(|| (), |_| list_runs());
    view! {
        <Title text="Runs" />
        <h1>"Runs"</h1>
        {resource_list(
            runs,
            || view! {
                <EmptyState title="No runs yet">
                    <p>"Open a workflow and press " <strong>"Run"</strong> " to start one."</p>
                </EmptyState>
            }.into_any(),
            |list| view! {
                <table class="table runs">
                    <thead><tr><th>"Run"</th><th>"Workflow"</th><th>"Status"</th><th>"Started"</th><th>"By"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|(r, name)| view! {
                            <tr>
                                <td><a href=format!("/runs/{}", r.id)><code>{r.id.clone()}</code></a></td>
                                <td><a href=format!("/workflows/{}", r.workflow_id)>{name}</a> <span class="muted">{format!(" v{}", r.version)}</span></td>
                                <td>{status_badge(r.status.to_string())}</td>
                                <td>{format_time(r.created_at)}</td>
                                <td>{r.started_by.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        )}
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    // While the run is open the page refreshes itself every second.
    let tick = RwSignal::new(0u32);
    let run = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), tick.get()),
        |(id, _)| get_run(id),
    );
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let open = run
                    .get_untracked()
                    .and_then(|r| r.ok())
                    .is_some_and(|r| r.run.status == RunStatus::Running);
                if open {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_millis(1000),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <Title text="Run" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || run.get().map(|r| match r {
                Ok(detail) => view! { <RunDetailView detail /> }.into_any(),
                Err(e) => view! { <h1>"Run"</h1> <ErrorBox error=e /> }.into_any(),
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

#[component]
fn RunDetailView(detail: RunDetail) -> impl IntoView {
    let r = detail.run;
    view! {
        <p class="crumbs"><a href="/runs">"Runs"</a> " / " <a href=format!("/workflows/{}", r.workflow_id)>"workflow"</a></p>
        <div class="page-head">
            <h1>"Run " <code>{r.id.clone()}</code></h1>
            <span data-testid="run-status">{status_badge(r.status.to_string())}</span>
        </div>
        <section class="card run-facts">
            <p>{format!("Version {} · started {} by {}", r.version, format_time(r.created_at), r.started_by)}
               {r.finished_at.map(|t| format!(" · finished {}", format_time(t)))}</p>
            {r.confidence.map(|c| view! { <p>"Cumulative confidence: " <strong>{format!("{c:.3}")}</strong></p> })}
            {r.error.clone().map(|e| view! { <p class="error-text" role="alert">{e}</p> })}
            <p>"Input: " <code>{r.input.to_string()}</code></p>
            {r.output.clone().map(|o| view! { <p>"Output: " <code data-testid="run-output">{o.to_string()}</code></p> })}
        </section>
        <table class="table steps">
            <thead><tr><th>"Step"</th><th>"Status"</th><th>"Attempt"</th><th>"Finished"</th><th>"Output or error"</th></tr></thead>
            <tbody>
                {detail.steps.into_iter().map(|s| view! {
                    <tr data-step=s.node_id.clone()>
                        <td><code>{s.node_id.clone()}</code></td>
                        <td>{status_badge(s.status.to_string())}</td>
                        <td>{s.attempt}</td>
                        <td>{s.finished_at.map(format_time).unwrap_or_default()}</td>
                        <td class="summary">{match &s.error {
                            Some(e) => format!("{} error: {e}", s.error_class.clone().unwrap_or_default()),
                            None => short_json(&s.output),
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
