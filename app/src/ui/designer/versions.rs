//! The versions list: open an earlier version read-only and see what
//! changed between it and the working copy.

use super::state::{Canvas, Viewing};
use crate::api::workflows::{get_workflow, list_versions};
use crate::domain::diff::diff;
use crate::domain::records::format_time;
use crate::ui::components::ErrorBox;
use leptos::prelude::*;

#[component]
pub fn Versions(canvas: Canvas, workflow_id: String, latest: RwSignal<i64>) -> impl IntoView {
    let id = workflow_id.clone();
    let list = Resource::new(move || latest.get(), move |_| list_versions(id.clone()));
    let open = Action::new(move |v: &i64| {
        let (id, v) = (workflow_id.clone(), *v);
        async move { get_workflow(id, Some(v)).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(w)) = open.value().get() {
            let d = canvas.def.with_untracked(|cur| diff(&w.definition, cur));
            canvas.selection.set(Default::default());
            canvas.viewing.set(Some(Viewing {
                version: w.version,
                def: w.definition,
                diff: d,
            }));
        }
    });
    view! {
        <details class="versions card-section">
            <summary>"Versions"</summary>
            {move || open.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorBox error=e /> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    Ok(vs) => view! {
                        <table class="table versions-list">
                            <thead><tr><th>"Version"</th><th>"Saved"</th><th>"By"</th><th>"Problems"</th><th></th></tr></thead>
                            <tbody>
                                {vs.into_iter().map(|v| {
                                    let n = v.version;
                                    let is_latest = n == latest.get_untracked();
                                    view! {
                                        <tr data-version=n>
                                            <td>{format!("version {n}")} {is_latest.then(|| view! { " " <span class="badge ok">"latest"</span> })}</td>
                                            <td>{format_time(v.created_at)}</td>
                                            <td>{v.created_by}</td>
                                            <td>{if v.problems == 0 { "none".to_string() } else { v.problems.to_string() }}</td>
                                            <td><button class="link" on:click=move |_| { open.dispatch(n); }>"Open read-only"</button></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </details>
    }
}

/// Shown above the canvas while an earlier version is open.
#[component]
pub fn ViewingBanner(canvas: Canvas) -> impl IntoView {
    move || {
        canvas.viewing.get().map(|v| {
            let name = |def: &crate::domain::WorkflowDef, id: &str| {
                def.node(id).map(|n| n.name.clone()).unwrap_or_else(|| id.to_string())
            };
            let cur = canvas.def.get_untracked();
            let d = &v.diff;
            let mut lines: Vec<String> = Vec::new();
            let mut push = |what: &str, names: Vec<String>| {
                if !names.is_empty() {
                    lines.push(format!("{what}: {}", names.join(", ")));
                }
            };
            push("Added since", d.added.iter().map(|id| name(&cur, id)).collect());
            push("Removed since", d.removed.iter().map(|id| name(&v.def, id)).collect());
            push("Changed since", d.changed.iter().map(|id| name(&cur, id)).collect());
            push("Moved since", d.moved.iter().map(|id| name(&cur, id)).collect());
            if !d.edges_added.is_empty() || !d.edges_removed.is_empty() {
                lines.push(format!(
                    "Connections: {} added, {} removed",
                    d.edges_added.len(),
                    d.edges_removed.len()
                ));
            }
            if d.settings_changed {
                lines.push("Workflow settings changed".into());
            }
            view! {
                <div class="viewing-banner" role="status" aria-label="Viewing an earlier version">
                    <p>
                        <strong>{format!("Version {} (read-only)", v.version)}</strong>
                        " compared with your working copy"
                    </p>
                    {if lines.is_empty() {
                        view! { <p>"No differences."</p> }.into_any()
                    } else {
                        view! { <ul class="diff">{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul> }.into_any()
                    }}
                    <button class="primary" on:click=move |_| canvas.viewing.set(None)>"Back to editing"</button>
                </div>
            }
        })
    }
}
