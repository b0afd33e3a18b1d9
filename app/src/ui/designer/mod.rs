//! The workflow designer: an SVG canvas of the graph. Nodes are dragged to
//! move them (snapped to a grid); the problems panel is the shared
//! validation function, live; Save stores a new version.

mod geometry;

use crate::api::workflows::save_workflow;
use crate::domain::records::WorkflowVersion;
use crate::domain::{Node, WorkflowDef, validate};
use crate::error::AppError;
use crate::ui::components::ErrorBox;
use geometry::{NODE_H, NODE_W, edge_path, snap};
use leptos::prelude::*;

/// What a drag is moving: the node and the pointer's last position.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Drag {
    index: usize,
    last_x: f64,
    last_y: f64,
    /// Unsnapped position, so small moves add up.
    x: f64,
    y: f64,
}

#[component]
pub fn Designer(w: WorkflowVersion) -> impl IntoView {
    let def = RwSignal::new(w.definition.clone());
    let saved = RwSignal::new(w.definition.clone());
    let version = RwSignal::new(w.version);
    let drag = RwSignal::new(None::<Drag>);
    let problems = Memo::new(move |_| def.with(validate));
    let dirty = Memo::new(move |_| def.with(|d| saved.with(|s| d != s)));
    let workflow_id = w.workflow_id.clone();
    let save = Action::new(move |d: &WorkflowDef| {
        let (id, json) = (
            workflow_id.clone(),
            serde_json::to_string(d).unwrap_or_default(),
        );
        async move { save_workflow(id, json).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(v)) = save.value().get() {
            saved.set(v.definition.clone());
            version.set(v.version);
        }
    });

    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some(mut d) = drag.get_untracked() else {
            return;
        };
        let (cx, cy) = (ev.client_x() as f64, ev.client_y() as f64);
        d.x += cx - d.last_x;
        d.y += cy - d.last_y;
        d.last_x = cx;
        d.last_y = cy;
        drag.set(Some(d));
        def.update(|def| {
            if let Some(n) = def.nodes.get_mut(d.index) {
                n.position.x = snap(d.x);
                n.position.y = snap(d.y);
            }
        });
    };
    let end_drag = move |_| drag.set(None);

    let width = move || {
        def.with(|d| d.nodes.iter().map(|n| n.position.x).fold(0.0, f64::max) + NODE_W + 80.0)
    };
    let height = move || {
        def.with(|d| d.nodes.iter().map(|n| n.position.y).fold(0.0, f64::max) + NODE_H + 80.0)
    };

    view! {
        <section class="designer card" aria-label="Designer">
            <div class="designer-bar">
                <span class="muted" data-testid="designer-version">{move || format!("version {}", version.get())}</span>
                <span class="unsaved" data-testid="unsaved" hidden=move || !dirty.get()>"Unsaved changes"</span>
                <button class="primary" disabled=move || !dirty.get() || save.pending().get()
                    on:click=move |_| { save.dispatch(def.get_untracked()); }>"Save"</button>
            </div>
            {move || save.value().get().and_then(|r: Result<WorkflowVersion, AppError>| r.err()).map(|e| view! { <ErrorBox error=e /> })}
            <div class="canvas-wrap">
                <svg class="canvas" role="img" aria-label="Workflow graph"
                    width=width height=height
                    on:pointermove=on_move on:pointerup=end_drag on:pointerleave=end_drag>
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                        </marker>
                    </defs>
                    <g class="edges">
                        {move || def.with(|d| d.edges.iter().filter_map(|e| {
                            let (a, b) = (d.node(&e.from)?, d.node(&e.to)?);
                            let (path, mid) = edge_path(a.position, b.position);
                            let label = (e.port != "out").then(|| e.port.clone());
                            let class = if e.port == "error" { "edge edge-error" } else { "edge" };
                            Some(view! {
                                <g class=class data-edge=format!("{}-{}-{}", e.from, e.port, e.to)>
                                    <path d=path marker-end="url(#arrow)" />
                                    {label.map(|l| view! { <text x=mid.0 y=mid.1 - 6.0 class="edge-label" text-anchor="middle">{l}</text> })}
                                </g>
                            })
                        }).collect_view())}
                    </g>
                    <g class="nodes">
                        {move || def.with(|d| d.nodes.iter().enumerate().map(|(i, n)| node_card(i, n, problems, drag)).collect_view())}
                    </g>
                </svg>
            </div>
            <div class="problems-panel" aria-label="Problems">
                {move || {
                    let list = problems.get();
                    if list.is_empty() {
                        view! { <p class="badge ok">"No problems"</p> }.into_any()
                    } else {
                        view! {
                            <h3>{format!("{} problem{}", list.len(), if list.len() == 1 { "" } else { "s" })}</h3>
                            <ul>{list.into_iter().map(|p| view! { <li>{p.message}</li> }).collect_view()}</ul>
                        }.into_any()
                    }
                }}
            </div>
        </section>
    }
}

fn node_card(
    index: usize,
    n: &Node,
    problems: Memo<Vec<crate::domain::Problem>>,
    drag: RwSignal<Option<Drag>>,
) -> impl IntoView + use<> {
    let id = n.id.clone();
    let bad_id = id.clone();
    let bad = move || {
        problems.with(|ps| {
            ps.iter()
                .any(|p| p.node.as_deref() == Some(bad_id.as_str()))
        })
    };
    let (x, y) = (n.position.x, n.position.y);
    let kind = n.kind.type_name();
    let mut summary = n.summary();
    if summary.chars().count() > 28 {
        summary = format!("{}…", summary.chars().take(27).collect::<String>());
    }
    view! {
        <g class=move || format!("node node-{kind}{}", if bad() { " has-problem" } else { "" })
            data-node=id transform=format!("translate({x},{y})")
            on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                ev.prevent_default();
                drag.set(Some(Drag { index, last_x: ev.client_x() as f64, last_y: ev.client_y() as f64, x, y }));
            }>
            <rect width=NODE_W height=NODE_H rx="8" />
            <text x="12" y="20" class="node-kind">{kind}</text>
            <text x="12" y="38" class="node-name">{n.name.clone()}</text>
            <text x="12" y="54" class="node-summary">{summary}</text>
        </g>
    }
}
