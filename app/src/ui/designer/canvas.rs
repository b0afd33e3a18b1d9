//! The SVG drawing of the graph: edges and nodes rendered keyed (so a
//! change redraws only what changed), panning, box selection, drawing a
//! connection, zoom and the minimap.

use super::cull::{self, Rect};
use super::geometry::{NODE_H, NODE_W};
use super::minimap::Minimap;
use super::node::node_card;
use super::state::Canvas;
use crate::domain::Edge;
use leptos::prelude::*;

const MIN_ZOOM: f64 = 0.1;
const MAX_ZOOM: f64 = 2.0;
const ZOOM_STEP: f64 = 1.25;
/// Graphs with at least this many steps get a minimap.
const MINIMAP_FROM: usize = 20;
const OPEN_ZOOM_FLOOR: f64 = 0.6;

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

/// Where the pointer is in graph coordinates.
fn graph_point(
    svg: &leptos::web_sys::Element,
    ev: &leptos::ev::PointerEvent,
    zoom: f64,
) -> (f64, f64) {
    let r = svg.get_bounding_client_rect();
    (
        (ev.client_x() as f64 - r.left()) / zoom,
        (ev.client_y() as f64 - r.top()) / zoom,
    )
}

/// Moves the point `(x, y)` by how far the pointer went since `last`.
/// At `zoom`, a pointer move of d screen pixels is d / zoom canvas units.
fn follow(x: &mut f64, y: &mut f64, last: &mut (f64, f64), pointer: (f64, f64), zoom: f64) {
    *x += (pointer.0 - last.0) / zoom;
    *y += (pointer.1 - last.1) / zoom;
    *last = pointer;
}

/// A rubber band being drawn (graph coordinates) and whether it adds to
/// the selection.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Band {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    add: bool,
}

impl Band {
    fn rect(&self) -> (f64, f64, f64, f64) {
        (
            self.x0.min(self.x1),
            self.y0.min(self.y1),
            (self.x1 - self.x0).abs(),
            (self.y1 - self.y0).abs(),
        )
    }
}

/// The size of the drawing: the graph plus a margin.
fn extent(canvas: Canvas) -> (f64, f64) {
    canvas.with_shown(|d| {
        let (mut w, mut h) = (0.0f64, 0.0f64);
        for n in &d.nodes {
            w = w.max(n.position.x);
            h = h.max(n.position.y);
        }
        (w + NODE_W + 80.0, h + NODE_H + 80.0)
    })
}

#[component]
pub fn GraphCanvas(canvas: Canvas) -> impl IntoView {
    let zoom = canvas.zoom;
    let set_zoom = move |z: f64| zoom.set(z.clamp(MIN_ZOOM, MAX_ZOOM));
    let wrap = NodeRef::<leptos::html::Div>::new();
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let size = Memo::new(move |_| extent(canvas));
    let pan = RwSignal::new(None::<(f64, f64)>);
    let band = RwSignal::new(None::<Band>);
    // the visible part of the graph, for the minimap: (x, y, w, h)
    let view_rect = RwSignal::new(Rect::default());
    let track_view = move || {
        if let Some(el) = wrap.get_untracked() {
            let z = zoom.get_untracked();
            view_rect.set(Rect {
                x: el.scroll_left() as f64 / z,
                y: el.scroll_top() as f64 / z,
                w: el.client_width() as f64 / z,
                h: el.client_height() as f64 / z,
            });
        }
    };
    Effect::new(move |_| {
        zoom.track();
        size.track();
        track_view();
    });

    let on_down = move |ev: leptos::ev::PointerEvent| {
        // only the background: nodes and ports handle their own
        if ev.target() == ev.current_target() {
            canvas.focus();
            if ev.shift_key() {
                if let Some(s) = svg.get_untracked() {
                    let (x, y) = graph_point(&s, &ev, zoom.get_untracked());
                    band.set(Some(Band {
                        x0: x,
                        y0: y,
                        x1: x,
                        y1: y,
                        add: true,
                    }));
                }
            } else {
                pan.set(Some((ev.client_x() as f64, ev.client_y() as f64)));
                canvas.selection.set(Default::default());
            }
        }
        // A move, a pan or a band keeps following the pointer even over
        // other parts of the page; a new connection must not, so the step
        // it is dropped on hears the release.
        if canvas.drag.get_untracked().is_some()
            || pan.get_untracked().is_some()
            || band.get_untracked().is_some()
        {
            capture_pointer(&ev);
        }
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let pointer = (ev.client_x() as f64, ev.client_y() as f64);
        let z = zoom.get_untracked();
        if let Some((lx, ly)) = pan.get_untracked() {
            if let Some(el) = wrap.get_untracked() {
                el.set_scroll_left(el.scroll_left() - (pointer.0 - lx) as i32);
                el.set_scroll_top(el.scroll_top() - (pointer.1 - ly) as i32);
            }
            pan.set(Some(pointer));
        } else if band.with_untracked(Option::is_some) {
            if let Some(s) = svg.get_untracked() {
                let (x, y) = graph_point(&s, &ev, z);
                band.update(|b| {
                    if let Some(b) = b {
                        (b.x1, b.y1) = (x, y);
                    }
                });
            }
        } else if canvas.connect.with_untracked(Option::is_some) {
            canvas.connect.update(|c| {
                if let Some(c) = c {
                    let mut last = (c.last_x, c.last_y);
                    follow(&mut c.x, &mut c.y, &mut last, pointer, z);
                    (c.last_x, c.last_y) = last;
                }
            });
        } else if canvas.drag.with_untracked(Option::is_some) {
            canvas.drag.update(|d| {
                if let Some(d) = d {
                    let mut last = (d.last_x, d.last_y);
                    follow(&mut d.dx, &mut d.dy, &mut last, pointer, z);
                    (d.last_x, d.last_y) = last;
                }
            });
        }
    };
    let on_up = move |_| {
        pan.set(None);
        canvas.connect.set(None);
        if let Some(b) = band.get_untracked() {
            band.set(None);
            let (x, y, w, h) = b.rect();
            let hit: Vec<String> = canvas.with_shown(|d| {
                d.nodes
                    .iter()
                    .filter(|n| {
                        n.position.x < x + w
                            && n.position.x + NODE_W > x
                            && n.position.y < y + h
                            && n.position.y + NODE_H > y
                    })
                    .map(|n| n.id.clone())
                    .collect()
            });
            canvas.selection.update(|s| {
                if !b.add {
                    s.clear();
                }
                s.extend(hit);
            });
        }
        if canvas.drag.with_untracked(Option::is_some) {
            canvas.finish_drag();
        }
    };

    // only what is near the view is drawn (see `cull`)
    let area = Memo::new(move |_| cull::drawn_area(view_rect.get()));
    let node_ids = Memo::new(move |_| {
        let area = area.get();
        canvas
            .selection
            .with(|sel| canvas.with_shown(|d| cull::nodes_in(d, area, sel)))
    });
    let edges = Memo::new(move |_| {
        let area = area.get();
        canvas
            .index
            .with(|ix| canvas.with_shown(|d| cull::edges_in(d, ix, area)))
    });
    let total = Memo::new(move |_| canvas.with_shown(|d| d.nodes.len()));
    // edges a problem points at, outlined like steps with problems
    let bad_edges = Memo::new(move |_| {
        canvas.problems.with(|ps| {
            canvas.with_shown(|d| {
                ps.iter()
                    .filter_map(|p| d.edges.get(p.edge?).cloned())
                    .collect::<std::collections::HashSet<Edge>>()
            })
        })
    });
    // connections back to a loop's entry, drawn as such
    let back_edges = Memo::new(move |_| {
        canvas.with_shown(|d| {
            d.back_edges()
                .into_iter()
                .filter_map(|i| d.edges.get(i).cloned())
                .collect::<std::collections::HashSet<Edge>>()
        })
    });
    let big = Memo::new(move |_| total.get() >= MINIMAP_FROM);
    // The steps are drawn in the browser once the page is interactive:
    // the server sends the frame only, which keeps large graphs quick to
    // open (a thousand steps would be a megabyte of markup to hydrate).
    // A graph wider than the view opens zoomed out to fit its width (not
    // below 60%, where names stay readable).
    let mounted = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(el) = wrap.get_untracked() {
            let fit = el.client_width() as f64 / size.get_untracked().0;
            if fit < 1.0 {
                set_zoom(fit.max(OPEN_ZOOM_FLOOR));
            }
        }
        track_view();
        mounted.set(true);
    });
    // a wider window shows more of the graph
    let resize = window_event_listener(leptos::ev::resize, move |_| track_view());
    on_cleanup(move || resize.remove());

    view! {
        <div class="canvas-area">
            <div class="zoom-bar" role="toolbar" aria-label="Zoom">
                <button title="Zoom out" aria-label="Zoom out" on:click=move |_| set_zoom(zoom.get_untracked() / ZOOM_STEP)>"−"</button>
                <span data-testid="zoom">{move || format!("{:.0}%", zoom.get() * 100.0)}</span>
                <button title="Zoom in" aria-label="Zoom in" on:click=move |_| set_zoom(zoom.get_untracked() * ZOOM_STEP)>"+"</button>
                <button title="Show the whole graph" aria-label="Fit: show the whole graph" on:click=move |_| {
                    if let Some(el) = wrap.get_untracked() {
                        let (w, h) = size.get_untracked();
                        let fit = (el.client_width() as f64 / w).min(el.client_height() as f64 / h);
                        set_zoom(fit.min(1.0));
                    }
                }>"Fit"</button>
            </div>
            <div class="canvas-wrap" node_ref=wrap on:scroll=move |_| track_view()>
                <svg class="canvas" role="group" aria-label="Workflow graph" node_ref=svg
                    class:read-only=move || canvas.read_only()
                    // while steps move, the drag layer shows them instead
                    class:moving=move || canvas.delta.with(Option::is_some)
                    width=move || size.get().0 * zoom.get() height=move || size.get().1 * zoom.get()
                    viewBox=move || { let (w, h) = size.get(); format!("0 0 {w} {h}") }
                    // the drawing starts at the top left however wide the
                    // view is (centred, it shifted whenever the graph grew)
                    preserveAspectRatio="xMinYMin meet"
                    on:pointerdown=on_down
                    on:wheel=move |ev: leptos::ev::WheelEvent| {
                        if ev.ctrl_key() {
                            ev.prevent_default();
                            let z = zoom.get_untracked();
                            set_zoom(if ev.delta_y() < 0.0 { z * ZOOM_STEP } else { z / ZOOM_STEP });
                        }
                    }
                    on:pointermove=on_move on:pointerup=on_up on:pointerleave=on_up>
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                        </marker>
                    </defs>
                    <Show when=move || mounted.get()>
                        {super::frames_view::frames_layer(canvas)}
                    </Show>
                    <g class="edges">
                        <Show when=move || mounted.get()>
                            <For each=move || edges.get() key=|e| e.clone() let(e)>
                                {super::edge::edge_view(e, canvas, bad_edges, back_edges)}
                            </For>
                        </Show>
                    </g>
                    {move || canvas.connect.get().map(|c| view! {
                        <path class="connecting" d=format!("M {} {} L {} {}", c.x0, c.y0, c.x, c.y) />
                    })}
                    <g class="nodes" role="listbox" aria-label="Steps" aria-multiselectable="true">
                        <Show when=move || mounted.get()>
                            <For each=move || node_ids.get() key=|id| id.clone() let(id)>
                                {node_card(id, canvas)}
                            </For>
                        </Show>
                    </g>
                    {move || band.get().map(|b| {
                        let (x, y, w, h) = b.rect();
                        view! { <rect class="band" x=x y=y width=w height=h /> }
                    })}
                </svg>
                <Show when=move || canvas.delta.with(Option::is_some)>
                    <super::drag_layer::DragLayer canvas size />
                </Show>
            </div>
            <Show when=move || big.get()>
                <Minimap canvas size view_rect wrap />
            </Show>
        </div>
    }
}
