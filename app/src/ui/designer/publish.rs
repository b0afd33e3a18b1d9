//! Which version is live (published: what triggers and a REST start
//! without a version run), and Publish / Unpublish for editors.

use super::state::Canvas;
use crate::api::workflows::{PublishWorkflow, UnpublishWorkflow};
use crate::ui::components::ErrorBox;
use leptos::prelude::*;

#[component]
pub(super) fn PublishControl(
    canvas: Canvas,
    workflow_id: String,
    /// The saved version the canvas started from.
    version: RwSignal<i64>,
    dirty: Memo<bool>,
    published: RwSignal<Option<i64>>,
    editable: bool,
) -> impl IntoView {
    let publish = ServerAction::<PublishWorkflow>::new();
    let unpublish = ServerAction::<UnpublishWorkflow>::new();
    Effect::new(move |_| {
        if let Some(Ok(w)) = publish.value().get() {
            published.set(w.published_version);
            canvas.note.set(Some(format!(
                "Published version {}: triggers and starts that name no version run it.",
                w.version
            )));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = unpublish.value().get() {
            published.set(None);
            canvas.note.set(Some(
                "Unpublished: no version is live; a start that names no version runs the latest."
                    .into(),
            ));
        }
    });
    let live = move || match published.get() {
        None => "Not published".to_string(),
        Some(p) if p == version.get() && !dirty.get() => format!("Live: version {p}"),
        Some(p) => format!("Live: version {p} · the canvas differs"),
    };
    // the saved version on the canvas can be published when it has no
    // problems and is not live already
    let can_publish = move || {
        editable
            && !dirty.get()
            && canvas.problems.with(Vec::is_empty)
            && published.get() != Some(version.get())
    };
    let (id, id2, id3) = (workflow_id.clone(), workflow_id.clone(), workflow_id);
    let admin = crate::ui::auth::can(crate::domain::auth::Permission::Administer);
    let gate_refused = move || {
        publish
            .value()
            .get()
            .and_then(Result::err)
            .is_some_and(|e| e.message.contains("an admin may publish it anyway"))
    };
    let error = move || {
        publish
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| unpublish.value().get().and_then(Result::err))
            .map(|e| view! { <ErrorBox error=e /> })
    };
    // one line whatever it says, so the canvas below never moves
    view! {
        <div class="publish-bar" role="group" aria-label="Published version">
        <span data-testid="published">{live}</span>
        {editable.then(|| view! {
            <Show when=can_publish>
                <button title="Make the saved version the one triggers and starts without a version run"
                    on:click={let id = id.clone(); move |_| { publish.dispatch(PublishWorkflow { id: id.clone(), version: version.get_untracked(), override_gate: false }); }}>
                    {move || format!("Publish version {}", version.get())}
                </button>
            </Show>
            // the golden set's gate refused it: an admin may publish anyway
            <Show when=move || admin && can_publish() && gate_refused()>
                <button class="danger" title="Publish although the golden set falls short; the audit trail records that you overrode the gate"
                    on:click={let id = id3.clone(); move |_| { publish.dispatch(PublishWorkflow { id: id.clone(), version: version.get_untracked(), override_gate: true }); }}>
                    "Publish anyway (admin)"
                </button>
            </Show>
            <Show when=move || published.get().is_some()>
                <button class="link" title="No version is live any more"
                    on:click={let id = id2.clone(); move |_| { unpublish.dispatch(UnpublishWorkflow { id: id.clone() }); }}>"Unpublish"</button>
            </Show>
        })}
        </div>
        {error}
    }
}
