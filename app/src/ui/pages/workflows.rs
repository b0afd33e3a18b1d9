//! The workflows list: create, open, rename, delete.

use crate::api::workflows::*;
use crate::domain::auth::Permission;
use crate::domain::records::{WorkflowSummary, format_time};
use crate::ui::auth::can;
use crate::ui::components::{EmptyState, action_error, resource_list};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let create = ServerAction::<CreateWorkflow>::new();
    let rename = ServerAction::<RenameWorkflow>::new();
    let delete = ServerAction::<DeleteWorkflow>::new();
    let workflows = Resource::new(
        move || (rename.version().get(), delete.version().get()),
        |_| list_workflows(),
    );
    let creating = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/workflows/{id}"), Default::default());
        }
    });

    view! {
        <Title text="Workflows" />
        <div class="page-head">
            <h1>"Workflows"</h1>
            {can(Permission::EditWorkflows).then(|| view! {
                <button class="primary" on:click=move |_| creating.update(|c| *c = !*c)>
                    "New workflow"
                </button>
            })}
        </div>
        <Show when=move || creating.get()>
            <ActionForm action=create attr:class="card inline-form" attr:aria-label="New workflow">
                <label>
                    "Name" <input type="text" name="name" required maxlength="120" autofocus
                        placeholder="e.g. Supplier onboarding" />
                </label>
                <button type="submit" class="primary" disabled=move || create.pending().get()>
                    "Create"
                </button>
                <button type="button" on:click=move |_| creating.set(false)>"Cancel"</button>
            </ActionForm>
            {action_error(create.value())}
        </Show>
        {action_error(rename.value())}
        {action_error(delete.value())}
        {resource_list(
            workflows,
            || view! {
                <EmptyState title="No workflows yet">
                    <p>"Create one with " <strong>"New workflow"</strong> "."</p>
                </EmptyState>
            }.into_any(),
            move |list| view! { <WorkflowTable list rename delete /> }.into_any(),
        )}
    }
}

#[component]
fn WorkflowTable(
    list: Vec<WorkflowSummary>,
    rename: ServerAction<RenameWorkflow>,
    delete: ServerAction<DeleteWorkflow>,
) -> impl IntoView {
    view! {
        <table class="table workflows">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Version"</th>
                    <th>"Live"</th>
                    <th>"Status"</th>
                    <th>"Updated"</th>
                    <th>"By"</th>
                    <th class="actions-col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|w| view! { <WorkflowRow w rename delete /> })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum RowMode {
    View,
    Renaming,
    ConfirmDelete,
}

#[component]
fn WorkflowRow(
    w: WorkflowSummary,
    rename: ServerAction<RenameWorkflow>,
    delete: ServerAction<DeleteWorkflow>,
) -> impl IntoView {
    let mode = RwSignal::new(RowMode::View);
    let id = w.id.clone();
    let href = format!("/workflows/{}", w.id);
    let status = if w.problems == 0 {
        view! { <span class="badge ok">"Ready"</span> }.into_any()
    } else {
        let n = w.problems;
        view! { <span class="badge warn">{format!("{n} problem{}", if n == 1 { "" } else { "s" })}</span> }
            .into_any()
    };
    let name = w.name.clone();
    let name_for_form = w.name.clone();
    let id_for_form = id.clone();
    let id_for_delete = id.clone();
    let confirm_text = format!("Delete “{}”? Its history is kept.", w.name);
    let name_cell = move || {
        if mode.get() == RowMode::Renaming {
            let (id, name) = (id_for_form.clone(), name_for_form.clone());
            view! {
                <ActionForm action=rename attr:class="inline-form compact">
                    <input type="hidden" name="id" value=id />
                    <input type="text" name="name" aria-label="New name" required maxlength="120" value=name />
                    <button type="submit" class="primary">"Save"</button>
                    <button type="button" on:click=move |_| mode.set(RowMode::View)>"Cancel"</button>
                </ActionForm>
            }
                .into_any()
        } else {
            view! { <a href=href.clone()>{name.clone()}</a> }.into_any()
        }
    };
    let editor = can(Permission::EditWorkflows);
    let actions_cell = move || {
        if !editor {
            ().into_any()
        } else if mode.get() == RowMode::ConfirmDelete {
            let id = id_for_delete.clone();
            view! {
                <span class="confirm">{confirm_text.clone()}</span>
                <button class="danger" on:click=move |_| {
                    delete.dispatch(DeleteWorkflow { id: id.clone() });
                }>"Confirm delete"</button>
                <button class="link" on:click=move |_| mode.set(RowMode::View)>"Cancel"</button>
            }
            .into_any()
        } else {
            view! {
                <button class="link" on:click=move |_| mode.set(RowMode::Renaming)>"Rename"</button>
                <button class="link danger" on:click=move |_| mode.set(RowMode::ConfirmDelete)>"Delete"</button>
            }
                .into_any()
        }
    };
    view! {
        <tr data-workflow=id.clone()>
            <td class="name">{name_cell}</td>
            <td>{format!("v{}", w.latest_version)}</td>
            <td data-testid="live">{match w.published_version {
                Some(p) if p == w.latest_version => format!("v{p}"),
                Some(p) => format!("v{p} (v{} saved since)", w.latest_version),
                None => "not published".to_string(),
            }}</td>
            <td>{status}</td>
            <td>{format_time(w.updated_at)}</td>
            <td>{w.updated_by.clone()}</td>
            <td class="actions">{actions_cell}</td>
        </tr>
    }
}
