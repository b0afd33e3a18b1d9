//! The runs list and one run's steps (the rich run view comes later).

use crate::api::runs::{get_run, list_runs};
use crate::api::workflows::list_workflows;
use crate::domain::records::RunFilter;
use crate::domain::records::{RunDetail, format_time};
use crate::domain::run::RunStatus;
use crate::ui::components::{EmptyState, ErrorBox, day_ms};
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
                                    <tr data-run=r.id.clone()>
                                        <td><a href=format!("/runs/{}", r.id)><code>{r.id.clone()}</code></a></td>
                                        <td><a href=format!("/workflows/{}", r.workflow_id)>{name}</a> <span class="muted">{format!(" v{}", r.version)}</span></td>
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
