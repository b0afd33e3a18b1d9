//! Keyboard helpers over the canvas: the "add a step" search and the
//! shortcuts overview.

use super::palette;
use super::state::Canvas;
use leptos::prelude::*;

/// Type to find a step kind; Enter adds it after the selected step.
#[component]
pub fn AddStep(
    canvas: Canvas,
    open: RwSignal<bool>,
    back: NodeRef<leptos::html::Section>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let hits = Memo::new(move |_| palette::search(&query.get()));
    let close = move || {
        open.set(false);
        canvas.insert_on.set(None);
        query.set(String::new());
        active.set(0);
        if let Some(s) = back.get_untracked() {
            let _ = s.focus();
        }
    };
    let choose = move |kind: &str| {
        canvas.add(kind);
        close();
    };
    let input = NodeRef::<leptos::html::Input>::new();
    input.on_load(|el| {
        let _ = el.focus();
    });
    view! {
        <div class="overlay" role="dialog" aria-label="Add a step" aria-modal="true"
            on:pointerdown=move |ev| { if ev.target() == ev.current_target() { close() } }>
            <div class="overlay-box">
                <input type="search" node_ref=input placeholder="Find a step kind…" aria-label="Step kind"
                    prop:value=move || query.get()
                    on:input=move |ev| { query.set(event_target_value(&ev)); active.set(0); }
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        ev.stop_propagation();
                        let n = hits.with_untracked(Vec::len);
                        match ev.key().as_str() {
                            "ArrowDown" if n > 0 => { ev.prevent_default(); active.update(|a| *a = (*a + 1) % n); }
                            "ArrowUp" if n > 0 => { ev.prevent_default(); active.update(|a| *a = (*a + n - 1) % n); }
                            "Enter" => {
                                ev.prevent_default();
                                if let Some(k) = hits.with_untracked(|h| h.get(active.get_untracked()).copied()) {
                                    choose(k);
                                }
                            }
                            "Escape" => { ev.prevent_default(); close(); }
                            _ => {}
                        }
                    } />
                <ul role="listbox" aria-label="Step kinds">
                    {move || {
                        let list = hits.get();
                        if list.is_empty() {
                            return view! { <li class="muted">"No step kind matches."</li> }.into_any();
                        }
                        list.into_iter().enumerate().map(|(i, k)| view! {
                            <li role="option" aria-selected=move || (active.get() == i).to_string()
                                on:pointerdown=move |ev| { ev.prevent_default(); choose(k); }>
                                <span class="icon" aria-hidden="true">{palette::icon(k)}</span> <strong>{k}</strong> " " <span class="muted">{palette::describe(k)}</span>
                            </li>
                        }).collect_view().into_any()
                    }}
                </ul>
                <p class="muted small">
                    {move || if canvas.insert_on.with(Option::is_some) {
                        "Inserts it on the connection."
                    } else if canvas.single().is_some() {
                        "Adds it after the selected step and connects it (between, if its output is taken)."
                    } else {
                        "Adds it to the right of the graph."
                    }}
                </p>
            </div>
        </div>
    }
}

pub const SHORTCUTS: [(&str, &str); 17] = [
    ("/ or A", "add a step (search by kind)"),
    ("Click", "select a step"),
    ("Shift+click", "add or remove a step from the selection"),
    ("Shift+drag on the background", "select the steps in a box"),
    ("Drag on the background", "pan"),
    ("Ctrl+wheel", "zoom"),
    ("Arrow keys (Shift: further)", "move the selection"),
    ("Delete / Backspace", "delete the selection"),
    ("Ctrl+A", "select everything"),
    ("Ctrl+C / Ctrl+V", "copy / paste"),
    ("Ctrl+D", "duplicate"),
    ("Ctrl+Z", "undo"),
    ("Ctrl+Shift+Z or Ctrl+Y", "redo"),
    ("Shift+L", "lay the graph out left to right"),
    ("Ctrl+S", "save a new version"),
    ("Escape", "clear the selection, close this"),
    ("?", "show this list"),
];

#[component]
pub fn Shortcuts(open: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="overlay" role="dialog" aria-label="Keyboard shortcuts" aria-modal="true"
            on:pointerdown=move |ev| { if ev.target() == ev.current_target() { open.set(false) } }>
            <div class="overlay-box">
                <h3>"Keyboard shortcuts"</h3>
                <table class="table shortcuts">
                    <tbody>
                        {SHORTCUTS.iter().map(|(k, what)| view! { <tr><td><kbd>{*k}</kbd></td><td>{*what}</td></tr> }).collect_view()}
                    </tbody>
                </table>
                <button on:click=move |_| open.set(false)>"Close"</button>
            </div>
        </div>
    }
}
