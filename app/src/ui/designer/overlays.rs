//! Keyboard helpers over the canvas: the "add a step" search and the
//! shortcuts overview.

use super::palette;
use super::state::Canvas;
use leptos::prelude::*;

/// The keys of a search box over a list of `n` choices: arrows move the
/// highlighted one (`active`), Enter takes it, Escape closes.
fn list_keys(
    ev: &leptos::ev::KeyboardEvent,
    n: usize,
    active: RwSignal<usize>,
    take: impl FnOnce(usize),
    close: impl FnOnce(),
) {
    ev.stop_propagation();
    match ev.key().as_str() {
        "ArrowDown" if n > 0 => {
            ev.prevent_default();
            active.update(|a| *a = (*a + 1) % n);
        }
        "ArrowUp" if n > 0 => {
            ev.prevent_default();
            active.update(|a| *a = (*a + n - 1) % n);
        }
        "Enter" => {
            ev.prevent_default();
            take(active.get_untracked());
        }
        "Escape" => {
            ev.prevent_default();
            close();
        }
        _ => {}
    }
}

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
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| list_keys(&ev, hits.with_untracked(Vec::len), active,
                        |i| if let Some(k) = hits.with_untracked(|h| h.get(i).copied()) { choose(k) }, close) />
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

pub const SHORTCUTS: [(&str, &str); 21] = [
    (
        "/ or A",
        "add a step after the selected one (search by kind)",
    ),
    (
        "Arrow keys",
        "go to the next step (right), the previous (left), the one above or below",
    ),
    ("Enter", "edit the selected step in the inspector"),
    (
        "Escape (in the inspector)",
        "back to the step on the canvas",
    ),
    ("C", "connect the selected step to another"),
    ("Click", "select a step"),
    ("Shift+click", "add or remove a step from the selection"),
    ("Shift+drag on the background", "select the steps in a box"),
    ("Drag on the background", "pan"),
    ("Ctrl+wheel", "zoom"),
    (
        "Alt+arrow keys (Shift: further)",
        "move the selection on the canvas",
    ),
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

/// Type to find a step; Enter connects the selected step to it (from its
/// first free output, else its first output, as another path).
#[component]
pub fn ConnectTo(canvas: Canvas, open: RwSignal<bool>) -> impl IntoView {
    let from = canvas.single().unwrap_or_default();
    let query = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let from_q = from.clone();
    let hits = Memo::new(move |_| {
        let q = query.get().to_lowercase();
        canvas.def.with(|d| {
            d.nodes
                .iter()
                .filter(|n| {
                    n.id != from_q && !matches!(n.kind, crate::domain::NodeKind::Start { .. })
                })
                .filter(|n| n.name.to_lowercase().contains(&q) || n.id.contains(&q))
                .take(50)
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let close = move || {
        open.set(false);
        if let Some(id) = canvas.single() {
            super::keys::focus_node(id);
        }
    };
    let choose = move |to: String| {
        let from = from.clone();
        let mut note = None;
        canvas.edit(|d| note = Some(super::edit::connect(d, &from, &to)));
        canvas.note.set(note);
        close();
    };
    let input = NodeRef::<leptos::html::Input>::new();
    input.on_load(|el| {
        let _ = el.focus();
    });
    view! {
        <div class="overlay" role="dialog" aria-label="Connect to a step" aria-modal="true"
            on:pointerdown=move |ev| { if ev.target() == ev.current_target() { close() } }>
            <div class="overlay-box">
                <input type="search" node_ref=input placeholder="Find a step…" aria-label="Step to connect to"
                    prop:value=move || query.get()
                    on:input=move |ev| { query.set(event_target_value(&ev)); active.set(0); }
                    on:keydown={
                        let choose = choose.clone();
                        move |ev: leptos::ev::KeyboardEvent| list_keys(&ev, hits.with_untracked(Vec::len), active,
                            |i| if let Some((id, _)) = hits.with_untracked(|h| h.get(i).cloned()) { choose(id) }, close)
                    } />
                <ul role="listbox" aria-label="Steps">
                    {move || hits.get().into_iter().enumerate().map(|(i, (id, name))| {
                        let choose = choose.clone();
                        let to = id.clone();
                        view! {
                            <li role="option" aria-selected=move || (active.get() == i).to_string()
                                on:pointerdown=move |ev| { ev.prevent_default(); choose(to.clone()); }>
                                <strong>{name}</strong> " " <code class="muted">{id}</code>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        </div>
    }
}
