//! One step on the canvas: its card, its output ports, and the pointer
//! gestures that start on it (move, connect, drop a connection).

use super::geometry::{self, NODE_H, NODE_W};
use super::{Canvas, Connect, Drag};
use crate::domain::Node;
use leptos::prelude::*;

pub(super) fn node_card(index: usize, n: &Node, canvas: Canvas) -> impl IntoView + use<> {
    let Canvas {
        problems,
        drag,
        connect,
        selected,
        ..
    } = canvas;
    let id = n.id.clone();
    let bad_id = id.clone();
    let sel_id = id.clone();
    let click_id = id.clone();
    let drop_id = id.clone();
    let is_selected =
        Signal::derive(move || selected.with(|s| s.as_deref() == Some(sel_id.as_str())));
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
    let ports = geometry::ports(n);
    let count = ports.len();
    let port_views = ports
        .into_iter()
        .enumerate()
        .map(|(i, port)| {
            let py = geometry::port_y(i, count);
            let (from, p) = (id.clone(), port.clone());
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
                        let (cx, cy) = (ev.client_x() as f64, ev.client_y() as f64);
                        connect.set(Some(Connect {
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
        <g class=move || format!("node node-{kind}{}{}", if bad() { " has-problem" } else { "" }, if is_selected.get() { " selected" } else { "" })
            aria-selected=move || is_selected.get().to_string()
            data-node=id transform=format!("translate({x},{y})")
            on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                ev.prevent_default();
                canvas.history.update_value(|h| h.record(canvas.def.get_untracked()));
                selected.set(Some(click_id.clone()));
                drag.set(Some(Drag { index, last_x: ev.client_x() as f64, last_y: ev.client_y() as f64, x, y }));
            }
            on:pointerup=move |_| {
                let Some(c) = connect.get_untracked() else { return };
                connect.set(None);
                let to = drop_id.clone();
                let exists = canvas.def.with_untracked(|d| d.edges.iter().any(|e| e.from == c.from && e.port == c.port && e.to == to));
                if c.from != to && !exists {
                    canvas.edit(|d| d.edges.push(crate::domain::Edge::new(&c.from, &c.port, &to)));
                }
            }>
            <rect width=NODE_W height=NODE_H rx="8" />
            <text x="12" y="20" class="node-kind">{kind}</text>
            <text x="12" y="38" class="node-name">{n.name.clone()}</text>
            <text x="12" y="54" class="node-summary">{summary}</text>
            {port_views}
        </g>
    }
}
