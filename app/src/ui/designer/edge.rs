//! One edge of the canvas: its curve (redrawn when its end steps move),
//! its port label, and the "+" that inserts a step on it, offered on the
//! connections of the selected steps.

use super::geometry::{self, edge_path};
use super::state::Canvas;
use crate::domain::Edge;
use leptos::prelude::*;

/// One edge; it redraws when its end nodes have moved.
pub(super) fn edge_view(
    e: Edge,
    canvas: Canvas,
    bad_edges: Memo<std::collections::HashSet<Edge>>,
    back_edges: Memo<std::collections::HashSet<Edge>>,
) -> impl IntoView {
    let (from, to) = (e.from.clone(), e.to.clone());
    let (f2, t2) = (from.clone(), to.clone());
    let (f3, t3) = (from.clone(), to.clone());
    let port = e.port.clone();
    // positions of both ends and the port's place on the source
    let geom = Memo::new(move |_| {
        let (a, b) = canvas
            .index
            .with(|ix| Some((*ix.get(&from)?, *ix.get(&to)?)))?;
        canvas.with_shown(|d| {
            let (a, b) = (d.nodes.get(a)?, d.nodes.get(b)?);
            let ports = geometry::ports(a);
            let i = ports.iter().position(|p| *p == port).unwrap_or(0);
            Some((a.position, i, ports.len().max(1), b.position))
        })
    });
    let touched = Memo::new(move |_| {
        canvas
            .selection
            .with(|s| (s.contains(&f2), s.contains(&t2)))
    });
    let carried = Memo::new(move |_| canvas.carried.with(|s| s.contains(&f3) || s.contains(&t3)));
    // while its steps move, the drag layer draws it (drag_layer.rs)
    let path = Memo::new(move |_| {
        let (pa, i, count, pb) = geom.get()?;
        Some(edge_path(pa, (i, count), pb))
    });
    let label = (e.port != "out").then(|| e.port.clone());
    let is_error = e.port == crate::domain::PORT_ERROR;
    let key_insert = e.clone();
    let key = e.clone();
    let class = move || {
        let removed = canvas.viewing.with(|v| {
            v.as_ref()
                .is_some_and(|v| v.diff.edges_removed.contains(&key))
        });
        let mut c = if is_error { "edge edge-error" } else { "edge" }.to_string();
        if removed {
            c.push_str(" diff-removed");
        }
        if bad_edges.with(|b| b.contains(&key)) {
            c.push_str(" has-problem");
        }
        if back_edges.with(|b| b.contains(&key)) {
            c.push_str(" edge-back");
        }
        let (ma, mb) = touched.get();
        if ma || mb {
            c.push_str(" touched");
        }
        if carried.get() {
            c.push_str(" carried");
        }
        c
    };
    view! {
        <g class=class data-edge=format!("{}-{}-{}", e.from, e.port, e.to)>
            <path d=move || path.with(|p| p.as_ref().map(|p| p.0.clone()).unwrap_or_default()) marker-end="url(#arrow)" />
            {move || {
                let (ma, mb) = touched.get();
                let on = key_insert.clone();
                ((ma || mb) && !canvas.read_only()).then(|| {
                    // named only when shown: a large graph draws many edges
                    let insert_label = canvas.with_shown(|d| {
                        let name = |id: &str| d.node(id).map(|n| n.name.clone()).unwrap_or_default();
                        format!("Insert a step between {} and {}", name(&on.from), name(&on.to))
                    });
                    let open = move || canvas.insert_on.set(Some(on.clone()));
                    let open2 = open.clone();
                    let mid = move || path.with(|p| p.as_ref().map(|p| p.1).unwrap_or_default());
                    view! {
                        <g class="edge-insert" role="button" tabindex="0" aria-label=insert_label.clone()
                            on:pointerdown=move |ev| { ev.stop_propagation(); ev.prevent_default(); open(); }
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                if ev.key() == "Enter" || ev.key() == " " { ev.prevent_default(); ev.stop_propagation(); open2(); }
                            }>
                            <circle cx=move || mid().0 cy=move || mid().1 r="9" />
                            <text x=move || mid().0 y=move || mid().1 + 4.0 text-anchor="middle">"+"</text>
                        </g>
                    }
                })
            }}
            {label.map(|l| view! {
                <text class="edge-label" text-anchor="middle"
                    x=move || path.with(|p| p.as_ref().map(|p| p.1.0).unwrap_or_default())
                    y=move || path.with(|p| p.as_ref().map(|p| p.1.1 - 6.0).unwrap_or_default())>{l}</text>
            })}
        </g>
    }
}
