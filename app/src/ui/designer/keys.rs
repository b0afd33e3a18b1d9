//! Moving around the designer: scrolling the canvas to a step, and the
//! keyboard: arrow keys move between connected steps
//! (Alt+arrows move the selection on the canvas), Enter opens the selected
//! step in the inspector and Escape comes back to it, C connects the
//! selected step to another, / adds one after it; the rest of the
//! shortcuts are in `overlays::SHORTCUTS`.

use super::edit;
use super::geometry::GRID;
use super::state::Canvas;
use crate::domain::NodeKind;
use leptos::prelude::*;

/// Whether a key press belongs to a form field rather than the canvas.
pub fn typing_in_field(ev: &leptos::ev::KeyboardEvent) -> bool {
    use leptos::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// Gives step `id`'s card the keyboard focus and scrolls the canvas (not
/// the page) to it.
pub fn focus_node(id: String) {
    let again = id.clone();
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        let selector = format!("g[data-node=\"{}\"]", id.replace('"', ""));
        if let Ok(Some(el)) = document().query_selector(&selector)
            && let Ok(svg) = el.dyn_into::<leptos::web_sys::SvgElement>()
        {
            let options = leptos::web_sys::FocusOptions::new();
            options.set_prevent_scroll(true);
            let _ = svg.focus_with_options(&options);
        }
    });
    reveal(again);
}

/// Scrolls the canvas (only the canvas: the page and its header stay
/// where they are) so step `id` is in view, once it is drawn.
pub fn reveal(id: String) {
    request_animation_frame(move || {
        let selector = format!("g[data-node=\"{}\"]", id.replace('"', ""));
        let Ok(Some(el)) = document().query_selector(&selector) else {
            return;
        };
        let Ok(Some(wrap)) = el.closest(".canvas-wrap") else {
            return;
        };
        let (n, w) = (
            el.get_bounding_client_rect(),
            wrap.get_bounding_client_rect(),
        );
        let dx = scroll_by((n.left(), n.right()), (w.left(), w.right()));
        let dy = scroll_by((n.top(), n.bottom()), (w.top(), w.bottom()));
        wrap.set_scroll_left(wrap.scroll_left() + dx as i32);
        wrap.set_scroll_top(wrap.scroll_top() + dy as i32);
    });
}

/// How far to scroll along one axis so `item` (start, end) sits inside
/// `view` with a margin: nothing when it already does.
fn scroll_by(item: (f64, f64), view: (f64, f64)) -> f64 {
    const MARGIN: f64 = 24.0;
    if item.0 < view.0 + MARGIN {
        item.0 - view.0 - MARGIN
    } else if item.1 > view.1 - MARGIN {
        item.1 - view.1 + MARGIN
    } else {
        0.0
    }
}

/// Moves the selection to the step an arrow key points at (from nothing
/// selected: to the Start step).
fn go(canvas: Canvas, key: &str) {
    let next = match canvas.single() {
        Some(id) => canvas.with_shown(|d| edit::neighbour(d, &id, key)),
        None => canvas.with_shown(|d| {
            d.nodes
                .iter()
                .find(|n| matches!(n.kind, NodeKind::Start { .. }))
                .or(d.nodes.first())
                .map(|n| n.id.clone())
        }),
    };
    if let Some(id) = next {
        canvas.select_only(&id);
        focus_node(id);
    }
}

/// Puts the keyboard in the inspector's first field.
fn to_inspector() {
    use leptos::wasm_bindgen::JsCast;
    let first = document()
        .query_selector(".inspector input:not([disabled]), .inspector textarea:not([disabled]), .inspector select:not([disabled])")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok());
    if let Some(el) = first {
        let _ = el.focus();
    }
}

/// The designer's key handler.
pub fn on_key(
    canvas: Canvas,
    adding: RwSignal<bool>,
    help: RwSignal<bool>,
    connecting: RwSignal<bool>,
    save: impl Fn() + 'static,
) -> impl Fn(leptos::ev::KeyboardEvent) + 'static {
    move |ev: leptos::ev::KeyboardEvent| {
        let ctrl = ev.ctrl_key() || ev.meta_key();
        let key = ev.key();
        if ctrl && key == "s" {
            ev.prevent_default();
            save();
            return;
        }
        if typing_in_field(&ev) {
            // Escape leaves the field for the step it belongs to
            if key == "Escape"
                && let Some(id) = canvas.single()
            {
                ev.prevent_default();
                focus_node(id);
            }
            return;
        }
        let step = if ev.shift_key() { 5.0 * GRID } else { GRID };
        let mut handled = true;
        match key.as_str() {
            "Delete" | "Backspace" => {
                canvas.delete_selection();
                // the focused card may be gone: the designer keeps the keys
                canvas.focus();
            }
            "z" | "Z" if ctrl && ev.shift_key() => canvas.travel(false),
            "z" if ctrl => canvas.travel(true),
            "y" if ctrl => canvas.travel(false),
            "a" if ctrl => canvas.select_all(),
            "c" if ctrl => canvas.copy(),
            "v" if ctrl => canvas.paste(),
            "d" if ctrl => canvas.duplicate(),
            "/" | "a" | "A" if !ctrl && !canvas.read_only() => adding.set(true),
            "c" | "C" if !ctrl && !canvas.read_only() && canvas.single().is_some() => {
                connecting.set(true)
            }
            "L" if !ctrl => canvas.auto_layout(),
            "?" => help.update(|h| *h = !*h),
            "Enter" if canvas.single().is_some() => to_inspector(),
            "ArrowLeft" if ev.alt_key() => canvas.nudge(-step, 0.0),
            "ArrowRight" if ev.alt_key() => canvas.nudge(step, 0.0),
            "ArrowUp" if ev.alt_key() => canvas.nudge(0.0, -step),
            "ArrowDown" if ev.alt_key() => canvas.nudge(0.0, step),
            "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" => go(canvas, &key),
            "Escape" => {
                help.set(false);
                canvas.selection.set(Default::default());
            }
            _ => handled = false,
        }
        if handled {
            ev.prevent_default();
        }
    }
}
