//! The workflow designer: an SVG canvas of the graph with a palette, an
//! inspector, live validation, undo/redo, versions, import and export.
//! Rendering is keyed per node and edge, so large graphs stay fluid: a
//! drag redraws only the moving steps and their edges, on a layer of their
//! own.

mod adding;
mod canvas;
mod chaos;
mod cull;
mod drag_layer;
mod edge;
mod edit;
mod files;
mod frames;
mod frames_view;
mod geometry;
mod history;
mod inspector;
mod keys;
mod layout;
mod minimap;
mod node;
mod overlays;
mod palette;
mod publish;
mod run;
mod state;
mod versions;

use crate::api::workflows::save_workflow;
use crate::domain::WorkflowDef;
use crate::domain::records::WorkflowVersion;
use crate::error::AppError;
use crate::ui::components::ErrorBox;
use leptos::prelude::*;
use state::Canvas;

#[component]
pub fn Designer(
    w: WorkflowVersion,
    /// False for roles that may look but not change.
    editable: bool,
    /// The role may start runs.
    #[prop(optional)]
    can_run: bool,
) -> impl IntoView {
    // the server checked this version: its sound expressions need not be
    // compiled again in the browser at the first edit
    crate::domain::validate::remember_checked(&w.definition, &w.problems);
    let canvas = Canvas::new(w.definition.clone(), w.problems.clone(), editable);
    canvas.workflow_id.set(Some(w.workflow_id.clone()));
    let def = canvas.def;
    let saved = RwSignal::new(w.definition.clone());
    let version = RwSignal::new(w.version);
    let published = RwSignal::new(w.published_version);
    let dirty = Memo::new(move |_| def.with(|d| saved.with(|s| d != s)));
    files::warn_when_leaving(dirty);
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
            // what was saved, said once
            let n = v.problems.len();
            canvas.note.set(Some(if n == 0 {
                format!("Saved version {}.", v.version)
            } else {
                format!(
                    "Saved version {} as a draft with {n} problem{}: it cannot run until they are fixed.",
                    v.version,
                    if n == 1 { "" } else { "s" }
                )
            }));
        }
    });
    let run_open = RwSignal::new(false);
    let can_save = move || dirty.get() && !save.pending().get() && !canvas.read_only();
    let do_save = move || {
        if dirty.get_untracked() && !save.pending().get_untracked() && !canvas.read_only() {
            save.dispatch(def.get_untracked());
        }
    };
    let adding = RwSignal::new(false);
    let help = RwSignal::new(false);
    let section = canvas.root;
    let import_note = RwSignal::new(None::<Result<String, String>>);

    let connecting = RwSignal::new(false);
    let on_key = keys::on_key(canvas, adding, help, connecting, do_save);

    let on_import = move |ev: leptos::ev::Event| {
        let input: leptos::web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        let name = file.name();
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            match files::parse_import(&text) {
                Ok(new) => {
                    let steps = new.nodes.len();
                    canvas.replace(new);
                    import_note.set(Some(Ok(format!(
                        "Imported {name}: {steps} steps. Save to keep them; Undo puts the previous graph back."
                    ))));
                }
                Err(e) => import_note.set(Some(Err(format!(
                    "Could not import {name}: {e}. Nothing was changed."
                )))),
            }
        });
    };

    view! {
        <section class="designer card" aria-label="Designer" tabindex="0" node_ref=section on:keydown=on_key>
            <div class="designer-bar">
                <div class="palette" role="toolbar" aria-label="Add a step">
                    {palette::KINDS.iter().map(|k| {
                        let k: &'static str = k;
                        view! { <button class="chip" title=format!("Add a {k} step: {}", palette::describe(k))
                            disabled=move || canvas.read_only() on:click=move |_| canvas.add(k)>
                            <span aria-hidden="true">{palette::icon(k)}</span>{format!(" + {k}")}</button> }
                    }).collect_view()}
                    <button class="chip" title="Find a step kind and add it (/ or A)" disabled=move || canvas.read_only()
                        on:click=move |_| adding.set(true)>"Search…"</button>
                </div>
                <span class="muted" data-testid="designer-version">{move || format!("version {}", version.get())}</span>
                // its room is kept when saved, so the first edit does not move the canvas
                <span class="unsaved" data-testid="unsaved" class:saved=move || !dirty.get() aria-hidden=move || (!dirty.get()).to_string()>"Unsaved changes"</span>
                {move || canvas.problems.with(|p| if p.is_empty() {
                    view! { <span class="badge ok" data-testid="runnable">"Ready to run"</span> }.into_any()
                } else {
                    let n = p.len();
                    view! { <span class="badge warn" data-testid="runnable">{format!("{n} problem{}", if n == 1 { "" } else { "s" })}</span> }.into_any()
                })}
            </div>
            <div class="designer-bar tools" role="toolbar" aria-label="Edit">
                <button title="Undo (Ctrl+Z)" on:click=move |_| canvas.travel(true)>"Undo"</button>
                <button title="Redo (Ctrl+Shift+Z)" on:click=move |_| canvas.travel(false)>"Redo"</button>
                <button title="Duplicate the selection (Ctrl+D)" disabled=move || canvas.selection.with(|s| s.is_empty()) || canvas.read_only()
                    on:click=move |_| canvas.duplicate()>"Duplicate"</button>
                <button title="Delete the selection (Delete)" disabled=move || canvas.selection.with(|s| s.is_empty()) || canvas.read_only()
                    on:click=move |_| canvas.delete_selection()>"Delete"</button>
                <button title="Lay the graph out left to right (Shift+L)" disabled=move || canvas.read_only()
                    on:click=move |_| canvas.auto_layout()>"Auto-layout"</button>
                <button title="Keyboard shortcuts (?)" on:click=move |_| help.set(true)>"Shortcuts"</button>
                <button title="Confidence threshold, who checks low confidence, run timeout"
                    aria-pressed=move || (canvas.settings_open.get() && canvas.selection.with(|s| s.is_empty())).to_string()
                    on:click=move |_| if canvas.settings_open.get_untracked() && canvas.selection.with_untracked(|s| s.is_empty()) {
                        canvas.settings_open.set(false)
                    } else {
                        canvas.open_settings()
                    }>"Workflow settings"</button>
                <span class="spacer"></span>
                <label class="button" title="Replace the graph with a workflow JSON file">
                    "Import"
                    <input type="file" class="visually-hidden" accept=".json,application/json" aria-label="Import a workflow file"
                        disabled=move || canvas.read_only() on:change=on_import />
                </label>
                // the file is made when clicked: a large graph does not
                // weigh on every render of the page
                <a class="button" download=format!("{}.json", file_name) href="#"
                    title="Download the workflow as a JSON file"
                    on:click=move |ev| {
                        let a: leptos::web_sys::HtmlAnchorElement = event_target(&ev);
                        a.set_href(&def.with_untracked(files::export_href));
                    }>"Export"</a>
                <button class="primary" title="Save a new version (Ctrl+S)" disabled=move || !can_save()
                    on:click=move |_| do_save()>"Save"</button>
                {can_run.then(|| view! {
                    <button class="primary" title="Run the workflow: its input form, and what on the canvas runs"
                        aria-expanded=move || run_open.get().to_string()
                        on:click=move |_| run_open.update(|o| *o = !*o)>"Run…"</button>
                })}
            </div>
            <publish::PublishControl canvas workflow_id=w.workflow_id.clone() version dirty published editable />
            {move || save.value().get().and_then(|r: Result<WorkflowVersion, AppError>| r.err()).map(|e| view! { <ErrorBox error=e /> })}
            {move || canvas.note.get().map(|m| view! { <p class="note ok" role="status" data-testid="designer-note">{m}</p> })}
            {move || import_note.get().map(|r| match r {
                Ok(m) => view! { <p class="note ok" role="status">{m}</p> }.into_any(),
                Err(m) => view! { <p class="error-box" role="alert">{m}</p> }.into_any(),
            })}
            {can_run.then(|| view! {
                <run::RunPanel canvas workflow_id=w.workflow_id.clone() version dirty save open=run_open />
            })}
            <versions::ViewingBanner canvas />
            <div class="designer-body">
                <canvas::GraphCanvas canvas />
                <inspector::Inspector canvas />
            </div>
            <Show when=move || adding.get() || canvas.insert_on.with(Option::is_some)>
                <overlays::AddStep canvas open=adding back=section />
            </Show>
            <Show when=move || connecting.get()>
                <overlays::ConnectTo canvas open=connecting />
            </Show>
            <Show when=move || help.get()>
                <overlays::Shortcuts open=help />
            </Show>
            <ProblemsPanel canvas />
            <versions::Versions canvas workflow_id=w.workflow_id.clone() latest=version />
        </section>
    }
}

#[component]
fn ProblemsPanel(canvas: Canvas) -> impl IntoView {
    view! {
        <div class="problems-panel" aria-label="Problems">
            {move || {
                let list = canvas.problems.get();
                if list.is_empty() {
                    view! { <p class="badge ok">"No problems"</p> }.into_any()
                } else {
                    view! {
                        <h3>{format!("{} problem{}", list.len(), if list.len() == 1 { "" } else { "s" })}</h3>
                        <ul>{list.into_iter().take(200).map(|p| {
                            let node = p.node.clone();
                            // about the whole workflow: its settings
                            let settings = p.node.is_none() && p.edge.is_none();
                            view! {
                                <li>
                                    <button class="link problem" disabled=node.is_none() && !settings
                                        title=if settings { "Open the workflow settings" } else { "Select the step" }
                                        on:click=move |_| match &node {
                                            Some(id) => canvas.select_only(id),
                                            None if settings => canvas.open_settings(),
                                            None => {}
                                        }>{p.message}</button>
                                </li>
                            }
                        }).collect_view()}</ul>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// A run's workflow, drawn read-only with each step's status and attempts
/// (updated as `statuses` changes).
#[component]
pub fn RunGraph(
    def: WorkflowDef,
    statuses: Signal<std::collections::HashMap<String, (String, i64)>>,
) -> impl IntoView {
    let canvas = Canvas::new(def, vec![], false);
    Effect::new(move |_| canvas.overlay.set(statuses.get()));
    view! {
        <section class="designer card run-graph" aria-label="Run graph">
            <canvas::GraphCanvas canvas />
        </section>
    }
}
