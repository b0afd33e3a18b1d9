//! Alert rules on the Monitoring page (list, add, delete), the banner
//! shown while one fires, and the same banner on the workflow's page.

use crate::api::monitoring::{create_alert_rule, delete_alert_rule, firing_alerts};
use crate::domain::auth::Permission;
use crate::domain::monitoring::alerts::{AlertRule, Metric, RuleSpec};
use crate::domain::records::format_time;
use crate::ui::auth::can;
use crate::ui::components::live::every;
use leptos::prelude::*;

fn firing_line(r: &AlertRule) -> String {
    let m = r.spec.metric;
    format!(
        "{} is {} (threshold {}, last {} min), firing since {}",
        m.describe(),
        r.last_value.map(|v| m.show(v)).unwrap_or_default(),
        m.show(r.spec.threshold),
        r.spec.window_minutes,
        r.firing_since.map(format_time).unwrap_or_default()
    )
}

/// The rules that fire, as a banner (nothing while none does).
#[component]
pub fn AlertBanner(rules: Vec<AlertRule>) -> impl IntoView {
    let firing: Vec<AlertRule> = rules
        .into_iter()
        .filter(|r| r.firing_since.is_some())
        .collect();
    (!firing.is_empty()).then(|| {
        view! {
            <div class="alert-banner" role="alert" data-testid="alert-banner">
                <strong>"Alert"</strong>
                <ul>{firing.iter().map(|r| view! { <li>{firing_line(r)}</li> }).collect_view()}</ul>
            </div>
        }
    })
}

/// The banner on a workflow's page, linking to its Monitoring page.
#[component]
pub fn WorkflowAlerts(workflow_id: String) -> impl IntoView {
    let tick = every(30_000);
    let wf = workflow_id.clone();
    let firing = Resource::new(move || tick.get(), move |_| firing_alerts(wf.clone()));
    let link = format!("/workflows/{workflow_id}/monitoring");
    view! {
        <p class="monitoring-link"><a href=link.clone()>"Monitoring"</a></p>
        <Transition fallback=|| ()>
            {move || firing.get().and_then(|r| r.ok()).filter(|r| !r.is_empty()).map(|rules| view! {
                <div class="alert-banner" role="alert" data-testid="alert-banner">
                    <strong>"Alert"</strong>
                    <ul>{rules.iter().map(|r| view! { <li>{firing_line(r)}</li> }).collect_view()}</ul>
                    <a href=link.clone()>"See monitoring"</a>
                </div>
            })}
        </Transition>
    }
}

/// The rules with their state and notices that could not be delivered
/// (redrawn with the figures; the form to add one is not, see `NewRule`).
#[component]
pub fn AlertRules(
    rules: Vec<AlertRule>,
    undelivered: Vec<(String, i64, Option<String>)>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let editable = can(Permission::EditWorkflows);
    let error = RwSignal::new(None::<String>);
    let remove = move |id: String| {
        leptos::task::spawn_local(async move {
            match delete_alert_rule(id).await {
                Ok(()) => changed.update(|n| *n += 1),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let rows = rules
        .into_iter()
        .map(|r| {
            let id = r.id.clone();
            let state = match r.firing_since {
                Some(_) => view! { <span class="status status-failed">"firing"</span> }.into_any(),
                None => view! { <span class="status status-succeeded">"quiet"</span> }.into_any(),
            };
            let hook = r
                .spec
                .webhook_url
                .as_deref()
                .and_then(|u| u.split('/').nth(2))
                .unwrap_or("banner and audit only")
                .to_string();
            view! {
                <tr data-rule=r.id.clone()>
                    <td>{r.spec.metric.describe()}</td>
                    <td>{format!("above {}", r.spec.metric.show(r.spec.threshold))}</td>
                    <td>{format!("{} min, at least {} runs", r.spec.window_minutes, r.spec.min_runs)}</td>
                    <td>{hook}</td>
                    <td>{state} " " {r.last_value.map(|v| r.spec.metric.show(v))}</td>
                    <td>{editable.then(|| view! {
                        <button class="link" on:click=move |_| remove(id.clone())>"Delete"</button>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card alert-rules" aria-label="Alert rules">
            <h2>"Alert rules"</h2>
            <p class="muted">"Checked every minute (the server's --alerts-every-ms). A rule that starts or stops firing is written to the audit trail and, with a webhook, told to it (Slack-compatible JSON)."</p>
            <table class="table">
                <thead><tr><th>"Watches"</th><th>"Fires"</th><th>"Over"</th><th>"Tells"</th><th>"Now"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {(!undelivered.is_empty()).then(|| view! {
                <div class="error-box" role="status">
                    <p>"Notices not delivered yet:"</p>
                    <ul>{undelivered.into_iter().map(|(_, tries, e)| view! {
                        <li>{format!("after {tries} tries: {}", e.unwrap_or_default())}</li>
                    }).collect_view()}</ul>
                </div>
            })}
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </section>
    }
}

/// The form to add a rule. The page places it outside the part redrawn as
/// figures refresh, so a half-written rule is never rebuilt under the
/// person typing it.
#[component]
pub fn NewRule(workflow_id: Signal<String>, changed: RwSignal<u32>) -> impl IntoView {
    let editable = can(Permission::EditWorkflows);
    let metric = RwSignal::new("escalation_rate".to_string());
    let threshold = RwSignal::new("20".to_string());
    let window = RwSignal::new("60".to_string());
    let min_runs = RwSignal::new("5".to_string());
    let url = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let spec = RuleSpec {
            metric: Metric::parse(&metric.get_untracked()).unwrap_or(Metric::EscalationRate),
            threshold: threshold.get_untracked().trim().parse().unwrap_or(f64::NAN),
            window_minutes: window.get_untracked().trim().parse().unwrap_or(0),
            min_runs: min_runs.get_untracked().trim().parse().unwrap_or(0),
            webhook_url: Some(url.get_untracked().trim().to_string()).filter(|u| !u.is_empty()),
        };
        let problems = spec.problems();
        if !problems.is_empty() {
            error.set(Some(problems.join("; ")));
            return;
        }
        let wf = workflow_id.get_untracked();
        let text = serde_json::to_string(&spec).unwrap_or_default();
        leptos::task::spawn_local(async move {
            match create_alert_rule(wf, text).await {
                Ok(_) => {
                    url.set(String::new());
                    changed.update(|n| *n += 1)
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let field = |label: &'static str, sig: RwSignal<String>, kind: &'static str| {
        view! {
            <label class="field"><span>{label}</span>
                <input type=kind step="any" prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev)) /></label>
        }
    };
    editable.then(|| view! {
        <section class="card" aria-label="Add an alert rule">
        <form class="new-rule" aria-label="New alert rule" on:submit=add>
            <h3>"Add a rule"</h3>
            <label class="field"><span>"Watch"</span>
                <select on:change=move |ev| metric.set(event_target_value(&ev))>
                    {[Metric::EscalationRate, Metric::FailureRate, Metric::Drift, Metric::OldestWaiting].into_iter().map(|m| view! {
                        <option value=m.as_str() selected=move || metric.get() == m.as_str()>{m.describe()}</option>
                    }).collect_view()}
                </select></label>
            {field("Fire above", threshold, "number")}
            {field("Over the last (minutes)", window, "number")}
            {field("With at least (runs)", min_runs, "number")}
            {field("Webhook URL (optional)", url, "url")}
            <button class="primary" type="submit">"Add rule"</button>
            {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </form>
        </section>
    })
}
