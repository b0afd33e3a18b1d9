//! Adding or changing a trigger. A schedule's next five fire times are
//! shown while it is typed (and what is wrong, when something is).

use crate::api::triggers::{CreateTrigger, UpdateTrigger, preview_schedule};
use crate::domain::triggers::view::WithSecret;
use crate::domain::triggers::{CatchUp, ResponseMode, Trigger, TriggerSpec, WebhookAuth, When};
use crate::ui::components::action_error;
use leptos::prelude::*;
use serde_json::{Value, json};

/// Time zones offered first (any IANA name may be typed).
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
];

/// The form's fields, as text (what a person typed).
#[derive(Clone, Copy)]
struct Fields {
    name: RwSignal<String>,
    // webhook
    path: RwSignal<String>,
    auth: RwSignal<String>,
    mapping: RwSignal<String>,
    headers: RwSignal<String>,
    key_header: RwSignal<String>,
    key_path: RwSignal<String>,
    sync: RwSignal<bool>,
    timeout_s: RwSignal<String>,
    // schedule
    cron_mode: RwSignal<bool>,
    cron: RwSignal<String>,
    every_min: RwSignal<String>,
    zone: RwSignal<String>,
    input: RwSignal<String>,
    overlap: RwSignal<String>,
    catch_up: RwSignal<String>,
    window_h: RwSignal<String>,
    jitter_s: RwSignal<String>,
    pause_after: RwSignal<String>,
}

fn text(s: &str) -> RwSignal<String> {
    RwSignal::new(s.to_string())
}

impl Fields {
    fn new(kind: &str, t: Option<&Trigger>) -> Fields {
        let f = Fields {
            name: text(t.map_or(
                if kind == "webhook" {
                    "Incoming"
                } else {
                    "Every weekday"
                },
                |t| &t.name,
            )),
            path: text(""),
            auth: text("hmac"),
            mapping: text(""),
            headers: text(""),
            key_header: text(""),
            key_path: text(""),
            sync: RwSignal::new(false),
            timeout_s: text("30"),
            cron_mode: RwSignal::new(true),
            cron: text("0 7 * * MON-FRI"),
            every_min: text("60"),
            zone: text("UTC"),
            input: text("{}"),
            overlap: text("skip"),
            catch_up: text("latest"),
            window_h: text("24"),
            jitter_s: text("0"),
            pause_after: text(""),
        };
        match t.map(|t| &t.spec) {
            Some(TriggerSpec::Webhook(w)) => {
                f.path.set(w.path.clone().unwrap_or_default());
                f.auth.set(
                    if matches!(w.auth, WebhookAuth::Token { .. }) {
                        "token"
                    } else {
                        "hmac"
                    }
                    .into(),
                );
                f.mapping.set(w.mapping.clone().unwrap_or_default());
                f.headers.set(w.headers.join(", "));
                f.key_header.set(w.dedup.header.clone().unwrap_or_default());
                f.key_path.set(w.dedup.path.clone().unwrap_or_default());
                if let ResponseMode::Sync { timeout_ms } = w.response {
                    f.sync.set(true);
                    f.timeout_s.set((timeout_ms as f64 / 1000.0).to_string());
                }
            }
            Some(TriggerSpec::Schedule(s)) => {
                match &s.when {
                    When::Cron(c) => f.cron.set(c.clone()),
                    When::EveryMs(ms) => {
                        f.cron_mode.set(false);
                        f.every_min.set((*ms as f64 / 60_000.0).to_string());
                    }
                }
                f.zone.set(s.time_zone.clone());
                f.input
                    .set(serde_json::to_string_pretty(&s.input).unwrap_or_default());
                f.mapping.set(s.mapping.clone().unwrap_or_default());
                f.overlap.set(
                    serde_json::to_value(s.overlap)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                );
                match s.catch_up {
                    CatchUp::None => f.catch_up.set("none".into()),
                    CatchUp::Latest => f.catch_up.set("latest".into()),
                    CatchUp::All { window_ms } => {
                        f.catch_up.set("all".into());
                        f.window_h.set((window_ms as f64 / 3_600_000.0).to_string());
                    }
                }
                f.jitter_s.set((s.jitter_ms as f64 / 1000.0).to_string());
                f.pause_after.set(
                    s.pause_after_failures
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                );
            }
            None => {}
        }
        f
    }

    /// The trigger as the server reads it; numbers that do not parse are
    /// sent as they are, so the server's message names the field.
    fn json(&self, kind: &str) -> Value {
        let num = |s: RwSignal<String>, scale: f64| -> Value {
            let t = s.get();
            match t.trim().parse::<f64>() {
                Ok(n) => json!((n * scale).round() as i64),
                Err(_) => json!(t),
            }
        };
        let opt = |s: RwSignal<String>| -> Value {
            let t = s.get();
            if t.trim().is_empty() {
                Value::Null
            } else {
                json!(t.trim())
            }
        };
        if kind == "webhook" {
            let headers: Vec<String> = self
                .headers
                .get()
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect();
            json!({
                "name": self.name.get(), "kind": "webhook",
                "path": opt(self.path), "auth": {"type": self.auth.get()},
                "headers": headers, "mapping": opt(self.mapping),
                "dedup": {"header": opt(self.key_header), "path": opt(self.key_path)},
                "response": if self.sync.get() { json!({"mode": "sync", "timeout_ms": num(self.timeout_s, 1000.0)}) } else { json!({"mode": "async"}) },
            })
        } else {
            let input: Value =
                serde_json::from_str(&self.input.get()).unwrap_or_else(|_| json!(self.input.get()));
            let catch_up = match self.catch_up.get().as_str() {
                "all" => json!({"policy": "all", "window_ms": num(self.window_h, 3_600_000.0)}),
                other => json!({"policy": other}),
            };
            json!({
                "name": self.name.get(), "kind": "schedule",
                "when": if self.cron_mode.get() { json!({"cron": self.cron.get()}) } else { json!({"every_ms": num(self.every_min, 60_000.0)}) },
                "time_zone": self.zone.get().trim(), "input": input, "mapping": opt(self.mapping),
                "overlap": self.overlap.get(), "catch_up": catch_up,
                "jitter_ms": num(self.jitter_s, 1000.0),
                "pause_after_failures": opt(self.pause_after).as_str().map(|s| s.parse::<u32>().map(Value::from).unwrap_or(json!(s))),
            })
        }
    }
}

#[component]
pub(super) fn TriggerForm(
    workflow_id: String,
    kind: &'static str,
    existing: Option<Trigger>,
    on_saved: Callback<WithSecret>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let f = Fields::new(kind, existing.as_ref());
    let create = ServerAction::<CreateTrigger>::new();
    let update = ServerAction::<UpdateTrigger>::new();
    Effect::new(move |_| {
        if let Some(Ok(w)) = create.value().get() {
            on_saved.run(w);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(t)) = update.value().get() {
            on_saved.run(WithSecret {
                trigger: t,
                secret: None,
            });
        }
    });
    let id = existing.as_ref().map(|t| t.id.to_string());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let trigger = f.json(kind).to_string();
        match &id {
            Some(id) => {
                update.dispatch(UpdateTrigger {
                    id: id.clone(),
                    trigger,
                });
            }
            None => {
                create.dispatch(CreateTrigger {
                    workflow_id: workflow_id.clone(),
                    trigger,
                });
            }
        }
    };
    let busy = move || create.pending().get() || update.pending().get();
    let title = match (&existing, kind) {
        (Some(t), _) => format!("Change \u{201c}{}\u{201d}", t.name),
        (None, "webhook") => "New webhook".into(),
        (None, _) => "New schedule".into(),
    };
    let label = title.clone();
    view! {
        <form class="trigger-form card" on:submit=submit aria-label=label>
            <h3>{title}</h3>
            <label>"Name" <input type="text" required prop:value=move || f.name.get() on:input=move |ev| f.name.set(event_target_value(&ev)) /></label>
            {if kind == "webhook" { webhook_fields(f).into_any() } else { schedule_fields(f).into_any() }}
            <div class="actions">
                <button type="submit" class="primary" disabled=busy>{if existing.is_some() { "Save trigger" } else { "Add trigger" }}</button>
                <button type="button" class="link" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
            {action_error(create.value())}
            {action_error(update.value())}
        </form>
    }
}

fn webhook_fields(f: Fields) -> impl IntoView {
    view! {
        <label>"Path (optional)" <span class="hint muted">"/hooks/<path>; without one, the trigger's id"</span>
            <input type="text" placeholder="invoices/incoming" prop:value=move || f.path.get() on:input=move |ev| f.path.set(event_target_value(&ev)) /></label>
        <label>"Authentication"
            <select on:change=move |ev| f.auth.set(event_target_value(&ev)) prop:value=move || f.auth.get()>
                <option value="hmac">"Signature (HMAC-SHA256 with a timestamp)"</option>
                <option value="token">"Token in a header"</option>
            </select></label>
        <label>"Headers the mapping may read (comma separated)"
            <input type="text" placeholder="x-source, x-request-id" prop:value=move || f.headers.get() on:input=move |ev| f.headers.set(event_target_value(&ev)) /></label>
        <label>"Mapping (jq over {body, headers, query}; empty: the body is the input)"
            <textarea rows="2" spellcheck="false" placeholder="{amount: .body.total}" prop:value=move || f.mapping.get() on:input=move |ev| f.mapping.set(event_target_value(&ev))></textarea></label>
        <fieldset>
            <legend>"Same delivery twice"</legend>
            <label>"Key header" <input type="text" placeholder="idempotency-key" prop:value=move || f.key_header.get() on:input=move |ev| f.key_header.set(event_target_value(&ev)) /></label>
            <label>"or key path (jq)" <input type="text" placeholder=".body.invoice_id" prop:value=move || f.key_path.get() on:input=move |ev| f.key_path.set(event_target_value(&ev)) /></label>
        </fieldset>
        <label class="check"><input type="checkbox" prop:checked=move || f.sync.get() on:change=move |ev| f.sync.set(event_target_checked(&ev)) />
            "Answer with the run's output (waits until it ends)"</label>
        <Show when=move || f.sync.get()>
            <label>"Wait at most (seconds)" <input type="number" min="1" max="120" prop:value=move || f.timeout_s.get() on:input=move |ev| f.timeout_s.set(event_target_value(&ev)) /></label>
        </Show>
    }
}

fn schedule_fields(f: Fields) -> impl IntoView {
    // the next fires as typed, asked of the server (which has the zones)
    let preview = Resource::new(move || f.json("schedule").to_string(), preview_schedule);
    view! {
        <fieldset>
            <legend>"When"</legend>
            <label class="check"><input type="radio" name="when" prop:checked=move || f.cron_mode.get() on:change=move |_| f.cron_mode.set(true) />"Cron"</label>
            <label class="check"><input type="radio" name="when" prop:checked=move || !f.cron_mode.get() on:change=move |_| f.cron_mode.set(false) />"Every"</label>
            <Show when=move || f.cron_mode.get()
                fallback=move || view! { <label>"Minutes" <input type="number" min="0.02" step="any" prop:value=move || f.every_min.get() on:input=move |ev| f.every_min.set(event_target_value(&ev)) /></label> }>
                <label>"Cron (minute hour day month weekday; seconds first if 6 fields)"
                    <input type="text" spellcheck="false" prop:value=move || f.cron.get() on:input=move |ev| f.cron.set(event_target_value(&ev)) /></label>
            </Show>
            <label>"Time zone" <input type="text" list="zones" prop:value=move || f.zone.get() on:input=move |ev| f.zone.set(event_target_value(&ev)) /></label>
            <datalist id="zones">{ZONES.iter().map(|z| view! { <option value=*z></option> }).collect_view()}</datalist>
        </fieldset>
        <div class="preview" aria-live="polite">
            <Transition fallback=|| ()>
                {move || preview.get().map(|r| match r {
                    Ok(fires) if fires.is_empty() => view! { <p class="muted">"No fires."</p> }.into_any(),
                    Ok(fires) => view! {
                        <p class="muted">"Next fires"</p>
                        <ol data-testid="preview-fires">{fires.into_iter().map(|x| view! { <li>{x.local}</li> }).collect_view()}</ol>
                    }.into_any(),
                    Err(e) => view! { <p class="field-error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </div>
        <label>"Input (JSON)" <textarea rows="2" spellcheck="false" prop:value=move || f.input.get() on:input=move |ev| f.input.set(event_target_value(&ev))></textarea></label>
        <label>"Mapping (optional jq over {input, nominal_time, fire_time, nominal_ms})"
            <input type="text" spellcheck="false" placeholder="{day: .nominal_time[0:10]}" prop:value=move || f.mapping.get() on:input=move |ev| f.mapping.set(event_target_value(&ev)) /></label>
        <label>"While a run it started is still going"
            <select prop:value=move || f.overlap.get() on:change=move |ev| f.overlap.set(event_target_value(&ev))>
                <option value="skip">"Skip the fire"</option>
                <option value="buffer_one">"Keep one fire waiting"</option>
                <option value="allow_all">"Start it anyway"</option>
                <option value="cancel_other">"Cancel the running one"</option>
            </select></label>
        <label>"Fires missed while the server was stopped"
            <select prop:value=move || f.catch_up.get() on:change=move |ev| f.catch_up.set(event_target_value(&ev))>
                <option value="latest">"Run the latest"</option>
                <option value="none">"Run none"</option>
                <option value="all">"Run all within a window, one by one"</option>
            </select></label>
        <Show when=move || f.catch_up.get() == "all">
            <label>"Window (hours)" <input type="number" min="0" step="any" prop:value=move || f.window_h.get() on:input=move |ev| f.window_h.set(event_target_value(&ev)) /></label>
        </Show>
        <label>"Jitter (seconds, at most)" <input type="number" min="0" prop:value=move || f.jitter_s.get() on:input=move |ev| f.jitter_s.set(event_target_value(&ev)) /></label>
        <label>"Pause after this many failed runs in a row (optional)" <input type="number" min="1" prop:value=move || f.pause_after.get() on:input=move |ev| f.pause_after.set(event_target_value(&ev)) /></label>
    }
}
