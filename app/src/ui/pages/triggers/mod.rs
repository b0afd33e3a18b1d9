//! The Triggers panel of a workflow: its webhooks and schedules, each with
//! its URL or next fire times, what its recent deliveries and fires did,
//! and (for editors) add, edit, pause, resume, delete, rotate a key, and
//! listen for a test event.

mod card;
mod form;

use crate::api::triggers::list_triggers;
use crate::domain::triggers::view::{TriggerView, WithSecret};
use crate::ui::components::{EmptyState, resource_list};
use leptos::prelude::*;

/// What a test event offers the designer as the run's sample input (JSON
/// text); the Run panel and Test step read it.
#[derive(Clone, Copy)]
pub struct SampleInput(pub RwSignal<Option<String>>);

/// Bumped after every change, so the list loads again.
#[derive(Clone, Copy)]
struct Changed(RwSignal<u32>);

impl Changed {
    fn bump(self) {
        self.0.update(|n| *n += 1);
    }
}

#[component]
pub fn TriggersPanel(workflow_id: String, editable: bool) -> impl IntoView {
    let changed = Changed(RwSignal::new(0));
    let wf = workflow_id.clone();
    let list = Resource::new(move || changed.0.get(), move |_| list_triggers(wf.clone()));
    // which form is open: none, a new webhook, a new schedule
    let adding = RwSignal::new(None::<&'static str>);
    // a secret just made (shown once, here)
    let secret = RwSignal::new(None::<(String, String)>);
    let on_created = move |w: WithSecret| {
        if let Some(s) = w.secret {
            secret.set(Some((w.trigger.trigger.name.clone(), s)));
        }
        adding.set(None);
        changed.bump();
    };
    let wf_form = workflow_id.clone();
    view! {
        <section class="card triggers" aria-label="Triggers">
            <div class="section-head">
                <h2>"Triggers"</h2>
                {editable.then(|| view! {
                    <div class="actions">
                        <button on:click=move |_| adding.set(Some("webhook"))>"Add webhook"</button>
                        <button on:click=move |_| adding.set(Some("schedule"))>"Add schedule"</button>
                    </div>
                })}
            </div>
            <p class="muted">"Webhooks and schedules start the published version. Runs they start say so, and link back here."</p>
            {move || secret.get().map(|(name, s)| view! { <SecretOnce name secret=s on_close=move || secret.set(None) /> })}
            {move || adding.get().map(|kind| view! {
                <form::TriggerForm workflow_id=wf_form.clone() kind existing=None
                    on_saved=Callback::new(move |w: WithSecret| on_created(w))
                    on_cancel=Callback::new(move |_| adding.set(None)) />
            })}
            {resource_list(list,
                || view! { <EmptyState title="No triggers"><p>"Runs start only when someone presses Run or calls the API. Add a webhook or a schedule to start the published version by itself."</p></EmptyState> }.into_any(),
                move |all: Vec<TriggerView>| view! {
                    <div class="trigger-list">
                        {all.into_iter().map(|t| view! {
                            <card::TriggerCard t editable
                                on_secret=Callback::new(move |w: WithSecret| on_created(w))
                                on_change=Callback::new(move |_| changed.bump()) />
                        }).collect_view()}
                    </div>
                }.into_any())}
        </section>
    }
}

/// A webhook's new key, shown once with how to use it.
#[component]
fn SecretOnce(name: String, secret: String, on_close: impl Fn() + 'static) -> impl IntoView {
    let copy = secret.clone();
    view! {
        <div class="new-token" role="status" data-testid="trigger-secret">
            <p><strong>{format!("Key of \u{201c}{name}\u{201d}: copy it now; it will not be shown again.")}</strong></p>
            <code data-testid="secret-value">{secret}</code>
            <p class="muted small">"Signed webhooks send the header "
                <code>"x-stepwise-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" with this key>"</code>
                "; token webhooks send the key itself in " <code>"x-stepwise-token"</code> "."</p>
            <div class="actions">
                <button on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    { let _ = window().navigator().clipboard().write_text(&copy); }
                    #[cfg(not(feature = "hydrate"))]
                    { let _ = &copy; }
                }>"Copy key"</button>
                <button class="link" on:click=move |_| on_close()>"Done"</button>
            </div>
        </div>
    }
}
