//! Settings → Notifications: the mail server approval notifications,
//! digests and Email steps go through, a test message, and the outbox
//! (what was sent, what is being retried, what was given up).

use crate::api::notify::*;
use crate::domain::notify::{OutboxEntry, SmtpSecurity, SmtpSettings};
use crate::domain::records::format_time;
use crate::ui::components::live::every;
use crate::ui::components::{EmptyState, action_error, resource_list};
use leptos::prelude::*;

#[component]
pub fn Notifications() -> impl IntoView {
    let save = ServerAction::<SaveSmtp>::new();
    let clear = ServerAction::<ClearSmtp>::new();
    let test = ServerAction::<SendTestEmail>::new();
    let settings = Resource::new(
        move || (save.version().get(), clear.version().get()),
        |_| get_smtp(),
    );
    view! {
        <section class="card" aria-label="Notifications">
            <h2>"Notifications"</h2>
            <p class="muted">"The people who may decide an approval item are emailed when it opens, nears its deadline or is escalated (or once a day, as each chose above), with a link straight to it. A workflow can also tell a Slack-compatible webhook (its settings in the designer). Email steps send through the same server."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || settings.get().map(|r| match r {
                    Ok(s) => view! { <SmtpForm current=s save /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
            {action_error(save.value())}
            {move || save.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="ok" role="status">"Mail server saved."</p> })}
            <div class="toolbar">
                <button class="link danger" on:click=move |_| { clear.dispatch(ClearSmtp {}); }>"Forget the mail server"</button>
            </div>
            {action_error(clear.value())}
            <ActionForm action=test attr:class="inline-form" attr:aria-label="Send a test email">
                <label>"Send a test email to" <input type="email" name="to" required placeholder="you@example.com" /></label>
                <button type="submit" disabled=move || test.pending().get()>"Send test"</button>
            </ActionForm>
            {action_error(test.value())}
            {move || test.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="ok" role="status">"Queued: see below how it went."</p> })}
            <Outbox refresh=test.version() />
        </section>
    }
}

#[component]
fn SmtpForm(current: Option<SmtpSettings>, save: ServerAction<SaveSmtp>) -> impl IntoView {
    let s = current.clone();
    let get = move |f: fn(&SmtpSettings) -> String| s.as_ref().map(f).unwrap_or_default();
    let security = current.as_ref().map(|s| s.security).unwrap_or_default();
    let port = current
        .as_ref()
        .map_or("587".to_string(), |s| s.port.to_string());
    view! {
        <p class="muted" data-testid="smtp-state">{match &current {
            Some(s) => format!("Sending through {}:{} ({}) as {}.", s.host, s.port, s.security.describe(), s.from),
            None => "No mail server is set: nobody is emailed.".to_string(),
        }}</p>
        <ActionForm action=save attr:class="form-grid" attr:aria-label="Mail server">
            <label>"Host" <input type="text" name="host" required placeholder="smtp.example.com" value=get(|s| s.host.clone()) /></label>
            <label>"Port" <input type="number" name="port" required min="1" max="65535" value=port /></label>
            <label>"Security" <select name="security">
                {SmtpSecurity::ALL.into_iter().map(|x| view! {
                    <option value=x.as_str() selected=x == security>{x.describe()}</option>
                }).collect_view()}
            </select></label>
            <label>"Username (optional)" <input type="text" name="username" autocomplete="off" value=get(|s| s.username.clone().unwrap_or_default()) /></label>
            <label>"Password secret (optional)" <input type="text" name="password_secret" placeholder="SMTP_PASSWORD" value=get(|s| s.password_secret.clone().unwrap_or_default()) /></label>
            <label>"From" <input type="text" name="from" required placeholder="Stepwise <stepwise@example.com>" value=get(|s| s.from.clone()) /></label>
            <p class="hint muted">"The password is a secret saved above, allowed to go to this host."</p>
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save mail server"</button>
        </ActionForm>
    }
}

fn state(e: &OutboxEntry) -> (String, &'static str) {
    match (e.delivered_at, e.given_up) {
        (Some(at), _) => (format!("delivered {}", format_time(at)), "status-succeeded"),
        (None, true) => (
            format!("given up: {}", e.last_error.clone().unwrap_or_default()),
            "status-failed",
        ),
        (None, false) if e.attempts > 0 => (
            format!(
                "retrying after {} tries: {}",
                e.attempts,
                e.last_error.clone().unwrap_or_default()
            ),
            "status-waiting",
        ),
        _ => ("queued".into(), "status-running"),
    }
}

#[component]
fn Outbox(refresh: RwSignal<usize>) -> impl IntoView {
    let tick = every(5_000);
    let only_failing = RwSignal::new(false);
    let list = Resource::new(
        move || (refresh.get(), tick.get(), only_failing.get()),
        |(_, _, f)| list_outbox(f),
    );
    view! {
        <div class="outbox" aria-label="Outbox" role="region">
            <h3>"Outbox"</h3>
            <label class="inline"><input type="checkbox" on:change=move |ev| only_failing.set(event_target_checked(&ev)) />
                " Only what was not delivered"</label>
            {resource_list(list, || view! { <EmptyState title="Nothing sent yet"><p>"Messages appear here as they are sent."</p></EmptyState> }.into_any(),
                |rows| view! {
                    <table class="table outbox-table">
                        <thead><tr><th>"Queued"</th><th>"To"</th><th>"What"</th><th>"How it went"</th></tr></thead>
                        <tbody>{rows.into_iter().map(|e| {
                            let (text, class) = state(&e);
                            let what = if e.subject.is_empty() { e.reason.clone() } else { format!("{} ({})", e.subject, e.reason) };
                            view! {
                                <tr data-outbox=e.id.clone()>
                                    <td>{format_time(e.created_at)}</td>
                                    <td>{format!("{}: {}", e.channel, e.destination)}</td>
                                    <td>{what}</td>
                                    <td><span class=format!("status {class}")>{text}</span></td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any())}
        </div>
    }
}
