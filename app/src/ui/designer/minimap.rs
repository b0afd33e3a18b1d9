//! The minimap of a large graph: every step as one path (cheap however
//! many there are) and a frame around the visible part; a click moves the
//! view there.

use super::cull::Rect;
use super::geometry::{NODE_H, NODE_W};
use super::state::Canvas;
use leptos::prelude::*;

/// An overview of a large graph; the frame is the visible part, and a
/// click moves the view there.
#[component]
pub(super) fn Minimap(
    canvas: Canvas,
    size: Memo<(f64, f64)>,
    view_rect: RwSignal<Rect>,
    wrap: NodeRef<leptos::html::Div>,
) -> impl IntoView {
    const MAX_W: f64 = 200.0;
    const MAX_H: f64 = 140.0;
    // pixels of minimap per graph unit
    let scale = move || {
        let (w, h) = size.get();
        (MAX_W / w).min(MAX_H / h)
    };
    // every node as one path: cheap to draw however many there are
    let shapes = Memo::new(move |_| {
        canvas.with_shown(|d| {
            let mut s = String::with_capacity(d.nodes.len() * 32);
            for n in &d.nodes {
                s.push_str(&format!(
                    "M{} {}h{NODE_W}v{NODE_H}h-{NODE_W}z",
                    n.position.x, n.position.y
                ));
            }
            s
        })
    });
    let go = move |ev: leptos::ev::PointerEvent| {
        use leptos::wasm_bindgen::JsCast;
        let Some(el) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        else {
            return;
        };
        let r = el.get_bounding_client_rect();
        let s = scale();
        let (gx, gy) = (
            (ev.client_x() as f64 - r.left()) / s,
            (ev.client_y() as f64 - r.top()) / s,
        );
        if let Some(w) = wrap.get_untracked() {
            let z = canvas.zoom.get_untracked();
            w.set_scroll_left((gx * z - w.client_width() as f64 / 2.0) as i32);
            w.set_scroll_top((gy * z - w.client_height() as f64 / 2.0) as i32);
        }
    };
    view! {
        <svg class="minimap" aria-label="Minimap" role="img"
            width=move || size.get().0 * scale() height=move || size.get().1 * scale()
            viewBox=move || { let (w, h) = size.get(); format!("0 0 {w} {h}") }
            on:pointerdown=go>
            <path class="minimap-nodes" d=move || shapes.get() />
            <rect class="minimap-view" x=move || view_rect.get().x y=move || view_rect.get().y
                width=move || view_rect.get().w height=move || view_rect.get().h />
        </svg>
    }
}
