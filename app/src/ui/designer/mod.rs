//! The workflow designer: an SVG canvas of the graph. Nodes are dragged to
//! move them (snapped to a grid); the problems panel is the shared
//! validation function, live; Save stores a new version.

mod geometry;
mod history;
mod inspector;
mod node;
mod palette;

use crate::api::workflows::save_workflow;
use crate::domain::records::WorkflowVersion;
use crate::domain::{WorkflowDef, validate};
use crate::error::AppError;
use crate::ui::components::ErrorBox;
use geometry::{GRID, NODE_H, NODE_W, edge_path, snap};
use history::History;
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

/// A connection being drawn from a port to the pointer (canvas coordinates).
#[derive(Clone, Debug, PartialEq)]
struct Connect {
    from: String,
    port: String,
    x0: f64,
    y0: f64,
    x: f64,
    y: f64,
    last_x: f64,
    last_y: f64,
}

/// Sends the pointer's further events to the canvas until it is released.
fn capture_pointer(ev: &leptos::ev::PointerEvent) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(el) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
    {
        let _ = el.set_pointer_capture(ev.pointer_id());
    }
}

const MIN_ZOOM: f64 = 0.25;
const MAX_ZOOM: f64 = 2.0;
const ZOOM_STEP: f64 = 1.25;

/// The definition as a `data:` URL for the Export link.
fn export_href(def: &WorkflowDef) -> String {
    let json = serde_json::to_string_pretty(def).unwrap_or_default();
    let encoded = percent_encoding::utf8_percent_encode(&json, percent_encoding::NON_ALPHANUMERIC);
    format!("data:application/json;charset=utf-8,{encoded}")
}

/// Moves the point `(x, y)` by how far the pointer went since `last`.
/// Deltas, not absolute positions, so no page-to-canvas mapping is needed.
/// At `zoom`, a pointer move of d screen pixels is d / zoom canvas units.
fn follow(
    x: &mut f64,
    y: &mut f64,
    last_x: &mut f64,
    last_y: &mut f64,
    pointer: (f64, f64),
    zoom: f64,
) {
    *x += (pointer.0 - *last_x) / zoom;
    *y += (pointer.1 - *last_y) / zoom;
    (*last_x, *last_y) = pointer;
}

/// The designer's shared state, handed to each node card.
#[derive(Clone, Copy)]
struct Canvas {
    def: RwSignal<WorkflowDef>,
    history: StoredValue<History>,
    problems: Memo<Vec<crate::domain::Problem>>,
    drag: RwSignal<Option<Drag>>,
    connect: RwSignal<Option<Connect>>,
    selected: RwSignal<Option<String>>,
}

impl Canvas {
    /// Applies an edit that can be undone.
    fn edit(self, f: impl FnOnce(&mut WorkflowDef)) {
        let before = self.def.get_untracked();
        self.history.update_value(|h| h.record(before));
        self.def.update(f);
    }
}

#[component]
pub fn Designer(w: WorkflowVersion) -> impl IntoView {
    let def = RwSignal::new(w.definition.clone());
    let saved = RwSignal::new(w.definition.clone());
    let version = RwSignal::new(w.version);
    let dirty = Memo::new(move |_| def.with(|d| saved.with(|s| d != s)));
    let workflow_id = w.workflow_id.clone();
    let file_name: String = w
        .name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let drag = RwSignal::new(None::<Drag>);
    let problems = Memo::new(move |_| def.with(validate));
    let selected = RwSignal::new(None::<String>);
    let history = StoredValue::new(History::default());
    let connect = RwSignal::new(None::<Connect>);
    let canvas = Canvas {
        def,
        history,
        problems,
        drag,
        connect,
        selected,
    };
    // Every change goes through here so it can be undone.
    let edit = move |f: &dyn Fn(&mut WorkflowDef)| canvas.edit(|d| f(d));
    // `back` undoes, otherwise redoes.
    let travel = move |back: bool| {
        let mut cur = def.get_untracked();
        let moved = history
            .try_update_value(|h| {
                if back {
                    h.undo(&mut cur)
                } else {
                    h.redo(&mut cur)
                }
            })
            .unwrap_or(false);
        if moved {
            def.set(cur);
        }
    };
    let undo = move || travel(true);
    let redo = move || travel(false);
    let delete_selected = move || {
        if let Some(id) = selected.get_untracked() {
            edit(&|d: &mut WorkflowDef| {
                d.nodes.retain(|n| n.id != id);
                d.edges.retain(|e| e.from != id && e.to != id);
            });
            selected.set(None);
        }
    };
    let add = move |kind: &'static str| {
        let mut added = None;
        edit(&|d: &mut WorkflowDef| {
            let x = d
                .nodes
                .iter()
                .map(|n| n.position.x)
                .fold(-NODE_W - 2.0 * GRID, f64::max)
                + NODE_W
                + 3.0 * GRID;
            if let Some(n) = palette::new_node(d, kind, snap(x), 2.0 * GRID) {
                d.nodes.push(n);
            }
        });
        def.with_untracked(|d| added = d.nodes.last().map(|n| n.id.clone()));
        selected.set(added);
    };
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

    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let ctrl = ev.ctrl_key() || ev.meta_key();
        match ev.key().as_str() {
            "Delete" | "Backspace" => {
                ev.prevent_default();
                delete_selected();
            }
            "z" | "Z" if ctrl && ev.shift_key() => {
                ev.prevent_default();
                redo();
            }
            "z" if ctrl => {
                ev.prevent_default();
                undo();
            }
            "y" if ctrl => {
                ev.prevent_default();
                redo();
            }
            "s" if ctrl => {
                ev.prevent_default();
                if dirty.get_untracked() && !save.pending().get_untracked() {
                    save.dispatch(def.get_untracked());
                }
            }
            "Escape" => selected.set(None),
            _ => {}
        }
    };

    let zoom = RwSignal::new(1.0_f64);
    let set_zoom = move |z: f64| zoom.set(z.clamp(MIN_ZOOM, MAX_ZOOM));
    let wrap = NodeRef::<leptos::html::Div>::new();
    // Panning: dragging the background scrolls the canvas.
    let pan = RwSignal::new(None::<(f64, f64)>);
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let pointer = (ev.client_x() as f64, ev.client_y() as f64);
        let z = zoom.get_untracked();
        if let Some((lx, ly)) = pan.get_untracked() {
            if let Some(el) = wrap.get_untracked() {
                el.set_scroll_left(el.scroll_left() - (pointer.0 - lx) as i32);
                el.set_scroll_top(el.scroll_top() - (pointer.1 - ly) as i32);
            }
            pan.set(Some(pointer));
            return;
        }
        if let Some(mut c) = connect.get_untracked() {
            follow(&mut c.x, &mut c.y, &mut c.last_x, &mut c.last_y, pointer, z);
            connect.set(Some(c));
            return;
        }
        let Some(mut d) = drag.get_untracked() else {
            return;
        };
        follow(&mut d.x, &mut d.y, &mut d.last_x, &mut d.last_y, pointer, z);
        drag.set(Some(d));
        def.update(|def| {
            if let Some(n) = def.nodes.get_mut(d.index) {
                n.position.x = snap(d.x);
                n.position.y = snap(d.y);
            }
        });
    };
    let end_drag = move |_| {
        pan.set(None);
        drag.set(None);
        connect.set(None);
    };

    let width = move || {
        def.with(|d| d.nodes.iter().map(|n| n.position.x).fold(0.0, f64::max) + NODE_W + 80.0)
    };
    let height = move || {
        def.with(|d| d.nodes.iter().map(|n| n.position.y).fold(0.0, f64::max) + NODE_H + 80.0)
    };

    view! {
        <section class="designer card" aria-label="Designer" tabindex="0" on:keydown=on_key>
            <div class="designer-bar">
                <div class="palette" role="toolbar" aria-label="Add a step">
                    {palette::KINDS.iter().map(|k| {
                        let k: &'static str = k;
                        view! { <button class="chip" title=format!("Add a {k} step") on:click=move |_| add(k)>{format!("+ {k}")}</button> }
                    }).collect_view()}
                </div>
                <button title="Undo (Ctrl+Z)" on:click=move |_| undo()>"Undo"</button>
                <button title="Redo (Ctrl+Shift+Z)" on:click=move |_| redo()>"Redo"</button>
                <button title="Delete the selected step (Delete)" disabled=move || selected.get().is_none()
                    on:click=move |_| delete_selected()>"Delete"</button>
                <span class="muted" data-testid="designer-version">{move || format!("version {}", version.get())}</span>
                <span class="unsaved" data-testid="unsaved" hidden=move || !dirty.get()>"Unsaved changes"</span>
                <a class="button" download=format!("{}.json", file_name)
                    href=move || def.with(export_href) title="Download the workflow as a JSON file">"Export"</a>
                <button class="primary" title="Save a new version (Ctrl+S)" disabled=move || !dirty.get() || save.pending().get()
                    on:click=move |_| { save.dispatch(def.get_untracked()); }>"Save"</button>
            </div>
            {move || save.value().get().and_then(|r: Result<WorkflowVersion, AppError>| r.err()).map(|e| view! { <ErrorBox error=e /> })}
            <div class="designer-body">
            <div class="canvas-wrap" node_ref=wrap>
                <div class="zoom-bar" role="toolbar" aria-label="Zoom">
                    <button title="Zoom out" aria-label="Zoom out" on:click=move |_| set_zoom(zoom.get_untracked() / ZOOM_STEP)>"−"</button>
                    <span data-testid="zoom">{move || format!("{:.0}%", zoom.get() * 100.0)}</span>
                    <button title="Zoom in" aria-label="Zoom in" on:click=move |_| set_zoom(zoom.get_untracked() * ZOOM_STEP)>"+"</button>
                    <button title="Show the whole graph" aria-label="Show the whole graph" on:click=move |_| {
                        if let Some(el) = wrap.get_untracked() {
                            let fit = (el.client_width() as f64 / width()).min(el.client_height() as f64 / height());
                            set_zoom(fit.min(1.0));
                        }
                    }>"Fit"</button>
                </div>
                <svg class="canvas" role="img" aria-label="Workflow graph"
                    width=move || width() * zoom.get() height=move || height() * zoom.get()
                    viewBox=move || format!("0 0 {} {}", width(), height())
                    on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                        // only the background: nodes and ports stop or handle their own
                        if ev.target() == ev.current_target() {
                            pan.set(Some((ev.client_x() as f64, ev.client_y() as f64)));
                            selected.set(None);
                        }
                        // A move or a pan keeps following the pointer even
                        // over other parts of the page; a new connection must
                        // not, so the step it is dropped on hears the release.
                        if drag.get_untracked().is_some() || pan.get_untracked().is_some() {
                            capture_pointer(&ev);
                        }
                    }
                    on:wheel=move |ev: leptos::ev::WheelEvent| {
                        if ev.ctrl_key() {
                            ev.prevent_default();
                            let z = zoom.get_untracked();
                            set_zoom(if ev.delta_y() < 0.0 { z * ZOOM_STEP } else { z / ZOOM_STEP });
                        }
                    }
                    on:pointermove=on_move on:pointerup=end_drag on:pointerleave=end_drag>
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                        </marker>
                    </defs>
                    <g class="edges">
                        {move || def.with(|d| d.edges.iter().filter_map(|e| {
                            let (a, b) = (d.node(&e.from)?, d.node(&e.to)?);
                            let ports = geometry::ports(a);
                            let index = ports.iter().position(|p| *p == e.port).unwrap_or(0);
                            let (path, mid) = edge_path(a.position, (index, ports.len().max(1)), b.position);
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
                    {move || connect.get().map(|c| view! {
                        <path class="connecting" d=format!("M {} {} L {} {}", c.x0, c.y0, c.x, c.y) />
                    })}
                    <g class="nodes">
                        {move || def.with(|d| d.nodes.iter().enumerate().map(|(i, n)| node::node_card(i, n, canvas)).collect_view())}
                    </g>
                </svg>
            </div>
            <inspector::Inspector canvas />
            </div>
            <div class="problems-panel" aria-label="Problems">
                {move || {
                    let list = problems.get();
                    if list.is_empty() {
                        view! { <p class="badge ok">"No problems"</p> }.into_any()
                    } else {
                        view! {
                            <h3>{format!("{} problem{}", list.len(), if list.len() == 1 { "" } else { "s" })}</h3>
                            <ul>{list.into_iter().map(|p| {
                                let node = p.node.clone();
                                view! {
                                    <li>
                                        <button class="link problem" disabled=node.is_none()
                                            title="Select the step"
                                            on:click=move |_| selected.set(node.clone())>{p.message}</button>
                                    </li>
                                }
                            }).collect_view()}</ul>
                        }.into_any()
                    }
                }}
            </div>
        </section>
    }
}
