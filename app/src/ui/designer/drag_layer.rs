//! The steps being moved, drawn on a layer of their own above the canvas
//! while the drag lasts. The canvas hides them (and their connections) at
//! the start and shows them again, moved, at the end; in between, nothing
//! on it changes, so the browser repaints only this small layer at each
//! pointer move instead of the whole drawing.

use super::edit::moved;
use super::geometry::{self, edge_path};
use super::state::Canvas;
use leptos::prelude::*;

#[component]
pub(super) fn DragLayer(canvas: Canvas, size: Memo<(f64, f64)>) -> impl IntoView {
    let zoom = canvas.zoom;
    // what moves: the selected steps (with the steps in a selected For
    // each's frame), and every connection touching one
    let moving = Memo::new(move |_| {
        let mut ids = canvas.selection.get();
        ids.extend(canvas.carried.get());
        ids
    });
    let cards = Memo::new(move |_| {
        moving.with(|sel| {
            canvas.with_shown(|d| {
                d.nodes
                    .iter()
                    .filter(|n| sel.contains(&n.id))
                    .take(super::cull::KEEP_SELECTED)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    });
    let paths = Memo::new(move |_| {
        moving.with(|sel| {
            canvas.with_shown(|d| {
                d.edges
                    .iter()
                    .filter(|e| sel.contains(&e.from) || sel.contains(&e.to))
                    .filter_map(|e| {
                        let (a, b) = (d.node(&e.from)?, d.node(&e.to)?);
                        let ports = geometry::ports(a);
                        let i = ports.iter().position(|p| *p == e.port).unwrap_or(0);
                        Some((
                            a.position,
                            sel.contains(&e.from),
                            (i, ports.len().max(1)),
                            b.position,
                            sel.contains(&e.to),
                        ))
                    })
                    .collect::<Vec<_>>()
            })
        })
    });
    let delta = move || canvas.delta.get().unwrap_or((0.0, 0.0));
    view! {
        <svg class="canvas drag-layer" aria-hidden="true"
            width=move || size.get().0 * zoom.get() height=move || size.get().1 * zoom.get()
            viewBox=move || { let (w, h) = size.get(); format!("0 0 {w} {h}") }
            preserveAspectRatio="xMinYMin meet">
            <g class="edges">
                {move || {
                    let delta = delta();
                    paths.get().into_iter().map(|(pa, ma, port, pb, mb)| {
                        let pa = if ma { moved(pa, delta) } else { pa };
                        let pb = if mb { moved(pb, delta) } else { pb };
                        view! { <g class="edge"><path d=edge_path(pa, port, pb).0 marker-end="url(#arrow)" /></g> }
                    }).collect_view()
                }}
            </g>
            <g class="nodes">
                <For each=move || cards.get() key=|n| n.id.clone() let(n)>
                    {
                        let at = n.position;
                        let class = format!("node node-{} selected", n.kind.type_name());
                        view! {
                            <g class=class transform=move || { let p = moved(at, delta()); format!("translate({},{})", p.x, p.y) }>
                                {super::node::card_body(&n, canvas)}
                            </g>
                        }
                    }
                </For>
            </g>
        </svg>
    }
}
