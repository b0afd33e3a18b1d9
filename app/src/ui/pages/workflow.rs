//! One workflow: the designer (with its Run panel), its triggers, and the
//! latest version's steps.

use crate::api::workflows::get_workflow;
use crate::domain::auth::Permission;
use crate::domain::records::{WorkflowVersion, format_time};
use crate::ui::auth::can;
use crate::ui::components::{ErrorBox, LazyDetails};
use crate::ui::designer::Designer;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn WorkflowPage() -> impl IntoView {
    let params = use_params_map();
    let workflow = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        |id| get_workflow(id, None),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                workflow
                    .get()
                    .map(|r| match r {
                        Ok(w) => view! { <WorkflowDetail w /> }.into_any(),
                        Err(e) => view! { <Title text="Workflow" /> <h1>"Workflow"</h1> <ErrorBox error=e /> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn WorkflowDetail(w: WorkflowVersion) -> impl IntoView {
    // a test event a webhook received, offered to the Run panel and Test step
    provide_context(super::triggers::SampleInput(RwSignal::new(None)));
    let def = std::sync::Arc::new(w.definition.clone());
    // written out only when opened (a large graph is a large text)
    let for_json = def.clone();
    let json = move || serde_json::to_string_pretty(&*for_json).unwrap_or_default();
    view! {
        <Title text=w.name.clone() />
        <p class="crumbs"><a href="/workflows">"Workflows"</a> " / "</p>
        <div class="page-head">
            <h1>{w.name.clone()}</h1>
            <span class="muted">
                {format!("last saved {} by {}", format_time(w.created_at), w.created_by)}
            </span>
        </div>
        <super::alert_rules::WorkflowAlerts workflow_id=w.workflow_id.clone() />
        <Designer w=w.clone() editable=can(Permission::EditWorkflows) can_run=can(Permission::OperateRuns) />
        <super::triggers::TriggersPanel workflow_id=w.workflow_id.clone() editable=can(Permission::EditWorkflows) />
        <super::golden::GoldenPanel workflow_id=w.workflow_id.clone() editable=can(Permission::EditWorkflows) />
        <super::retention::RetentionPanel workflow_id=w.workflow_id.clone() />
        <LazyDetails summary=format!("Steps ({})", def.nodes.len())>
            <table class="table steps">
                <thead><tr><th>"Step"</th><th>"Kind"</th><th>"Does"</th><th>"Then"</th></tr></thead>
                <tbody>
                    {def.nodes.iter().map(|n| {
                        let next: Vec<String> = def.edges.iter().filter(|e| e.from == n.id).map(|e| {
                            let to = def.node(&e.to).map(|t| t.name.clone()).unwrap_or_else(|| e.to.clone());
                            if e.port == "out" { to } else { format!("{} → {to}", e.port) }
                        }).collect();
                        view! {
                            <tr>
                                <td>{n.name.clone()} <code class="muted">{n.id.clone()}</code></td>
                                <td><span class=format!("kind kind-{}", n.kind.type_name())>{n.kind.type_name()}</span></td>
                                <td class="summary">{n.summary()}</td>
                                <td>{next.join(", ")}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </LazyDetails>
        <LazyDetails summary="Definition (JSON)".to_string()>
            <pre class="json">{json.clone()}</pre>
        </LazyDetails>
    }
}
