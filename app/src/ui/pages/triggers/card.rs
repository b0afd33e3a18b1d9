//! One trigger: what it is, where it listens or when it fires next, its
//! recent deliveries and fires, and its actions.

use super::SampleInput;
use super::form::TriggerForm;
use crate::api::triggers::{
    DeleteTrigger, PauseTrigger, RetireTriggerKey, RotateTriggerKey, listen_test_event,
};
use crate::domain::records::format_time;
use crate::domain::triggers::view::{TestEvent, TriggerView, WithSecret, describe};
use crate::domain::triggers::{EventOutcome, TriggerEvent};
use crate::ui::components::action_error;
use leptos::prelude::*;

#[component]
pub(super) fn TriggerCard(
    t: TriggerView,
    editable: bool,
    on_secret: Callback<WithSecret>,
    on_change: Callback<()>,
) -> impl IntoView {
    let id = t.trigger.id.to_string();
    let pause = ServerAction::<PauseTrigger>::new();
    let delete = ServerAction::<DeleteTrigger>::new();
    let rotate = ServerAction::<RotateTriggerKey>::new();
    let retire = ServerAction::<RetireTriggerKey>::new();
    Effect::new(move |_| {
        let done = pause.value().get().is_some_and(|r| r.is_ok())
            || delete.value().get().is_some_and(|r| r.is_ok())
            || retire.value().get().is_some_and(|r| r.is_ok());
        if done {
            on_change.run(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(w)) = rotate.value().get() {
            on_secret.run(w);
        }
    });
    let editing = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    let paused = t.trigger.paused;
    let state = match (&t.trigger.paused, &t.trigger.paused_reason) {
        (false, _) => "Active".to_string(),
        (true, Some(why)) => format!("Paused: {why}"),
        (true, None) => "Paused".to_string(),
    };
    let kind = t.trigger.spec.kind();
    let lines = describe(&t.trigger.spec);
    // the address as the browser sees the server (known only once hydrated)
    let origin = RwSignal::new(String::new());
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        origin.set(window().location().origin().unwrap_or_default());
    });
    let url = t.url_path.clone().map(|p| {
        let copy_path = p.clone();
        view! {
            <p class="hook-url">
                <code data-testid="hook-url">{move || format!("{}{p}", origin.get())}</code>
                " "
                <button class="link" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    { let _ = window().navigator().clipboard().write_text(&format!("{}{copy_path}", origin.get_untracked())); }
                    #[cfg(not(feature = "hydrate"))]
                    { let _ = &copy_path; }
                }>"Copy URL"</button>
            </p>
        }
    });
    let next = (!t.next_fires.is_empty()).then(|| view! {
        <div class="next-fires">
            <span class="muted">"Next fires"</span>
            <ol data-testid="next-fires">
                {t.next_fires.iter().map(|f| view! { <li><time datetime=f.local.clone()>{f.local.clone()}</time></li> }).collect_view()}
            </ol>
        </div>
    });
    let is_webhook = t.url_path.is_some();
    let rotating = t.trigger.rotating;
    let (id_p, id_d, id_r, id_x, id_l) =
        (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
    let name = t.trigger.name.clone();
    let existing = t.trigger.clone();
    let wf = t.trigger.workflow_id.clone();
    view! {
        <article class="trigger" id=format!("trigger-{id}") data-trigger=name.clone() aria-label=format!("Trigger {name}")>
            <header>
                <h3>{name.clone()}</h3>
                <span class=format!("kind kind-{kind}")>{kind}</span>
                <span class=if paused { "state paused" } else { "state active" } data-testid="trigger-state">{state}</span>
            </header>
            {url}
            <ul class="trigger-facts">{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            {rotating.then(|| view! { <p class="muted">"The previous key is still accepted (rotation under way)."</p> })}
            {next}
            {editable.then(|| view! {
                <div class="actions">
                    <button on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button>
                    <button on:click=move |_| { pause.dispatch(PauseTrigger { id: id_p.clone(), paused: !paused }); }>
                        {if paused { "Resume" } else { "Pause" }}</button>
                    {is_webhook.then(|| view! {
                        <button title="A new key; the current one stays accepted until you stop it"
                            on:click=move |_| { rotate.dispatch(RotateTriggerKey { id: id_r.clone() }); }>"Rotate key"</button>
                    })}
                    {rotating.then(|| view! {
                        <button class="link" on:click=move |_| { retire.dispatch(RetireTriggerKey { id: id_x.clone() }); }>"Stop accepting the previous key"</button>
                    })}
                    <Show when=move || !confirm_delete.get()
                        fallback={let id_d = id_d.clone(); move || { let id_d = id_d.clone(); view! {
                            <span role="alert">"Delete this trigger? "</span>
                            <button class="danger" on:click=move |_| { delete.dispatch(DeleteTrigger { id: id_d.clone() }); }>"Delete"</button>
                            <button class="link" on:click=move |_| confirm_delete.set(false)>"Keep"</button>
                        } }}>
                        <button class="link danger" on:click=move |_| confirm_delete.set(true)>"Delete…"</button>
                    </Show>
                </div>
            })}
            {action_error(pause.value())}
            {action_error(delete.value())}
            {action_error(rotate.value())}
            {action_error(retire.value())}
            <Show when=move || editing.get()>
                <TriggerForm workflow_id=wf.clone() kind existing=Some(existing.clone())
                    on_saved=Callback::new(move |_| { editing.set(false); on_change.run(()); })
                    on_cancel=Callback::new(move |_| editing.set(false)) />
            </Show>
            {(editable && is_webhook).then(|| view! { <Listen id=id_l.clone() /> })}
            <Events events=t.events.clone() />
        </article>
    }
}

/// "Listen for a test event": the next delivery is shown here (no run
/// starts) and can become the designer's sample input.
#[component]
fn Listen(id: String) -> impl IntoView {
    let listening = RwSignal::new(false);
    let got = RwSignal::new(None::<Result<Option<TestEvent>, String>>);
    let sample = use_context::<SampleInput>();
    let used = RwSignal::new(false);
    let listen = move |_| {
        let id = id.clone();
        listening.set(true);
        got.set(None);
        used.set(false);
        leptos::task::spawn_local(async move {
            let r = listen_test_event(id).await.map_err(|e| e.message);
            got.set(Some(r));
            listening.set(false);
        });
    };
    view! {
        <div class="listen">
            <button on:click=listen disabled=move || listening.get()>
                {move || if listening.get() { "Listening… send a request now" } else { "Listen for a test event" }}</button>
            {move || got.get().map(|r| match r {
                Err(e) => view! { <p class="error-box" role="alert">{e}</p> }.into_any(),
                Ok(None) => view! { <p class="muted" role="status">"Nothing arrived within a minute."</p> }.into_any(),
                Ok(Some(ev)) => {
                    let input = ev.input.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_default());
                    let offer = input.clone();
                    view! {
                        <div class="test-event" role="status" data-testid="test-event">
                            <p><strong>{format!("Test event received {}; no run was started.", format_time(ev.at))}</strong></p>
                            <p class="muted">"Request (body, headers, query)"</p>
                            <pre class="json">{serde_json::to_string_pretty(&ev.request).unwrap_or_default()}</pre>
                            {match (&input, &ev.input_error) {
                                (Some(i), _) => view! { <p class="muted">"Run input it would start"</p><pre class="json" data-testid="test-input">{i.clone()}</pre> }.into_any(),
                                (None, Some(e)) => view! { <p class="field-error">{format!("The mapping would refuse it: {e}")}</p> }.into_any(),
                                _ => ().into_any(),
                            }}
                            {offer.zip(sample).map(|(text, s)| view! {
                                <button on:click=move |_| { s.0.set(Some(text.clone())); used.set(true); }>"Use as sample input"</button>
                                <Show when=move || used.get()><span class="muted">" The Run panel and Test step now start from it."</span></Show>
                            })}
                        </div>
                    }.into_any()
                }
            })}
        </div>
    }
}

#[component]
fn Events(events: Vec<TriggerEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"No deliveries or fires yet."</p> }.into_any();
    }
    view! {
        <table class="table trigger-events">
            <caption class="muted">"Recent deliveries and fires"</caption>
            <thead><tr><th>"When"</th><th>"What"</th><th>"Run"</th><th>"Why"</th></tr></thead>
            <tbody>
                {events.into_iter().map(|e| view! {
                    <tr data-outcome=e.outcome.as_str()>
                        <td>{format_time(e.at)}</td>
                        <td><span class=format!("outcome outcome-{}", e.outcome.as_str())>{label(e.outcome)}</span></td>
                        <td>{e.run_id.clone().map(|r| view! { <a href=format!("/runs/{r}")>{r.chars().take(12).collect::<String>()}"…"</a> })}</td>
                        <td>{e.detail.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn label(o: EventOutcome) -> &'static str {
    match o {
        EventOutcome::Started => "started a run",
        EventOutcome::Duplicate => "duplicate",
        EventOutcome::Refused => "refused",
        EventOutcome::Skipped => "skipped",
        EventOutcome::Queued => "waiting",
        EventOutcome::Missed => "missed",
        EventOutcome::Test => "test event",
        EventOutcome::Paused => "paused",
    }
}
