//! One step on the canvas: its card, its output ports, and the pointer
//! gestures that start on it (select, move, connect, drop a connection).
//! Each card listens to its own node only, so a change elsewhere in the
//! graph does not redraw it; while dragging, the drag layer draws the
//! moving cards and this one stays as it was (hidden) until the drop.

use super::geometry::{self, NODE_H, NODE_W};
use super::state::{Canvas, Connect, Drag};
use crate::domain::Node;
use leptos::prelude::*;

pub(super) fn node_card(id: String, canvas: Canvas) -> impl IntoView {
    let node = canvas.node(id.clone());
    let sel_id = id.clone();
    let is_selected = Memo::new(move |_| canvas.selection.with(|s| s.contains(&sel_id)));
    let carried_id = id.clone();
    // inside a selected For each's frame: it moves with it
    let is_carried = Memo::new(move |_| canvas.carried.with(|s| s.contains(&carried_id)));
    let bad_id = id.clone();
    let bad = Memo::new(move |_| {
        canvas.problems.with(|ps| {
            ps.iter()
                .any(|p| p.node.as_deref() == Some(bad_id.as_str()))
        })
    });
    let run_id = id.clone();
    let run_state = Memo::new(move |_| canvas.overlay.with(|o| o.get(&run_id).cloned()));
    let diff_id = id.clone();
    let diff = Memo::new(move |_| {
        canvas
            .viewing
            .with(|v| v.as_ref().and_then(|v| v.diff.status_of(&diff_id)))
    });
    // while it is being moved, the drag layer draws it (drag_layer.rs)
    let place = Memo::new(move |_| node.with(|n| n.as_ref().map(|n| n.position)));
    let class = move || {
        let kind = node.with(|n| n.as_ref().map(|n| n.kind.type_name()).unwrap_or(""));
        let mut c = format!("node node-{kind}");
        if bad.get() {
            c.push_str(" has-problem");
        }
        if is_selected.get() {
            c.push_str(" selected");
        }
        if is_carried.get() {
            c.push_str(" carried");
        }
        if let Some(d) = diff.get() {
            c.push_str(" diff-");
            c.push_str(d);
        }
        if let Some(status) = run_state.with(|s| s.as_ref().map(|(st, _)| st.clone())) {
            c.push_str(" run-");
            c.push_str(&status);
        }
        c
    };
    let (down_id, drop_id, focus_id, pos_id) = (id.clone(), id.clone(), id.clone(), id.clone());
    // only the steps near the view are drawn: each says where it is in all
    let place_in_all = move || canvas.index.with(|ix| ix.get(&pos_id).map(|i| i + 1));
    let all = move || canvas.index.with(|ix| ix.len());
    view! {
        <g class=class aria-selected=move || is_selected.get().to_string() data-node=id.clone()
            // the For each frame it sits in
            data-parent=move || node.with(|n| n.as_ref().and_then(|n| n.parent.clone()))
            // one step at a time is in the tab order: the selected one
            tabindex=move || if is_selected.get() { "0" } else { "-1" }
            role="option" aria-posinset=place_in_all aria-setsize=all
            on:focus=move |_| if !is_selected.get_untracked() && canvas.drag.with_untracked(Option::is_none) { canvas.select_only(&focus_id) }
            transform=move || place.get().map(|p| format!("translate({},{})", p.x, p.y))
            on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                ev.prevent_default();
                canvas.focus();
                if ev.shift_key() || ev.ctrl_key() || ev.meta_key() {
                    canvas.toggle(&down_id);
                    return;
                }
                if !is_selected.get_untracked() {
                    canvas.select_only(&down_id);
                }
                if !canvas.read_only() {
                    canvas.drag.set(Some(Drag { last_x: ev.client_x() as f64, last_y: ev.client_y() as f64, dx: 0.0, dy: 0.0 }));
                }
            }
            on:pointerup=move |_| {
                let Some(c) = canvas.connect.get_untracked() else { return };
                canvas.connect.set(None);
                let to = drop_id.clone();
                let exists = canvas.def.with_untracked(|d| d.edges.iter().any(|e| e.from == c.from && e.port == c.port && e.to == to));
                if c.from != to && !exists {
                    canvas.edit(|d| d.edges.push(crate::domain::Edge::new(&c.from, &c.port, &to)));
                }
            }>
            {move || node.get().map(|n| card_body(&n, canvas))}
            {move || run_state.get().map(|(status, attempts)| view! {
                <text x=NODE_W y="-6" text-anchor="end" class="run-state">
                    {if attempts > 1 { format!("{status} ×{attempts}") } else { status }}
                </text>
            })}
        </g>
    }
}

/// What the card shows; rebuilt only when this node changes.
pub(super) fn card_body(n: &Node, canvas: Canvas) -> impl IntoView + use<> {
    let kind = n.kind.type_name();
    let mut summary = n.summary();
    if summary.chars().count() > 28 {
        summary = format!("{}…", summary.chars().take(27).collect::<String>());
    }
    let (x, y) = (n.position.x, n.position.y);
    let ports = geometry::ports(n);
    let count = ports.len();
    let port_views = ports
        .into_iter()
        .enumerate()
        .map(|(i, port)| {
            let py = geometry::port_y(i, count);
            let (from, p) = (n.id.clone(), port.clone());
            let class = if port == crate::domain::PORT_ERROR {
                "port port-error"
            } else {
                "port"
            };
            view! {
                <circle class=class cx=NODE_W cy=py r="6" data-port=port.clone()
                    on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                        // a connection starts here, not a move of the node
                        ev.stop_propagation();
                        ev.prevent_default();
                        if canvas.read_only() {
                            return;
                        }
                        let (cx, cy) = (ev.client_x() as f64, ev.client_y() as f64);
                        canvas.connect.set(Some(Connect {
                            from: from.clone(), port: p.clone(),
                            x0: x + NODE_W, y0: y + py, x: x + NODE_W, y: y + py,
                            last_x: cx, last_y: cy,
                        }));
                    }>
                    <title>{format!("{port}: drag to the next step")}</title>
                </circle>
            }
        })
        .collect_view();
    view! {
        <rect width=NODE_W height=NODE_H rx="8" />
        <text x="12" y="20" class="node-kind">{kind}</text>
        <text x=NODE_W - 14.0 y="21" class="node-icon" text-anchor="end" aria-hidden="true">{super::palette::icon(kind)}</text>
        <text x="12" y="38" class="node-name">{n.name.clone()}</text>
        <text x="12" y="54" class="node-summary">{summary}</text>
        {port_views}
    }
}
