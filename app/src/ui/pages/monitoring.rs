//! A workflow's Monitoring page: runs and outcomes, failure and escalation
//! rates, duration percentiles, what people decided, confidence against a
//! baseline with its drift, and the alert rules (with a banner while one
//! fires). The figures refresh every 15 seconds.

use super::alert_rules::{AlertBanner, AlertRules, NewRule};
use crate::api::monitoring::monitoring_figures;
use crate::api::workflows::get_workflow;
use crate::domain::monitoring::{Figures, Granularity, Monitoring};
use crate::ui::components::ErrorBox;
use crate::ui::components::charts::{BarChart, LineChart, Series};
use crate::ui::components::live::every;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn MonitoringPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let workflow = Resource::new(id, |id| get_workflow(id, None));
    let hours = RwSignal::new(24i64);
    let step = RwSignal::new(String::new());
    let baseline = RwSignal::new("previous".to_string());
    let changed = RwSignal::new(0u32);
    let tick = every(15_000);
    let figures = Resource::new(
        move || {
            (
                id(),
                hours.get(),
                step.get(),
                baseline.get(),
                tick.get(),
                changed.get(),
            )
        },
        |(id, h, s, b, _, _)| monitoring_figures(id, h, s, b),
    );
    let steps = move || {
        workflow
            .get()
            .and_then(|w| w.ok())
            .map(|w| {
                w.definition
                    .nodes
                    .iter()
                    .filter(|n| n.parent.is_none())
                    .map(|n| (n.id.clone(), n.name.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let name = move || {
        workflow
            .get()
            .and_then(|w| w.ok())
            .map(|w| w.name)
            .unwrap_or_default()
    };
    view! {
        <Title text="Monitoring" />
        <p class="crumbs"><a href="/workflows">"Workflows"</a> " / "
            <a href=move || format!("/workflows/{}", id())><Transition fallback=|| ()>{name}</Transition></a> " / "</p>
        <div class="page-head"><h1>"Monitoring"</h1>
            <span class="muted">"Test, golden-set and chaos runs are left out."</span></div>
        <div class="toolbar monitoring-controls">
            <label>"Range "
                <select aria-label="Range" on:change=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(24))>
                    <option value="24" selected=true>"Last 24 hours"</option>
                    <option value="168">"Last 7 days"</option>
                    <option value="720">"Last 30 days"</option>
                </select></label>
            <label>"Show "
                <select aria-label="Step" on:change=move |ev| step.set(event_target_value(&ev))>
                    <option value="">"The whole workflow"</option>
                    <Transition fallback=|| ()>
                        {move || steps().into_iter().map(|(id, n)| view! { <option value=id>{format!("Step: {n}")}</option> }).collect_view()}
                    </Transition>
                </select></label>
            <label>"Confidence against "
                <select aria-label="Baseline" on:change=move |ev| baseline.set(event_target_value(&ev))>
                    <option value="previous">"the period before"</option>
                    <option value="golden">"the golden set"</option>
                </select></label>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || figures.get().map(|r| match r {
                Ok(m) => view! { <Dashboard m=m changed /> }.into_any(),
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
            })}
        </Transition>
        <NewRule workflow_id=Signal::derive(id) changed />
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1} %"))
}

fn ms(v: Option<i64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v < 1000 => format!("{v} ms"),
        Some(v) if v < 120_000 => format!("{:.1} s", v as f64 / 1000.0),
        Some(v) => format!("{:.1} min", v as f64 / 60_000.0),
    }
}

fn label(start: i64, g: Option<Granularity>) -> String {
    let f = if g == Some(Granularity::Day) {
        "%m-%d"
    } else {
        "%H:00"
    };
    chrono::DateTime::from_timestamp_millis(start)
        .map(|t| t.format(f).to_string())
        .unwrap_or_default()
}

#[component]
fn Dashboard(m: Monitoring, changed: RwSignal<u32>) -> impl IntoView {
    let Monitoring {
        figures: f,
        rules,
        undelivered,
        ..
    } = m;
    let t = f.total.clone();
    let d = f.decisions.clone();
    let drift = match (f.confidence.psi, &f.confidence.reading) {
        (Some(p), Some(r)) => format!("{p:.3} ({r})"),
        _ => "not enough runs".to_string(),
    };
    view! {
        <AlertBanner rules=rules.clone() />
        <section class="figures" aria-label="Totals">
            <div class="figure"><span class="n" data-testid="runs-total">{t.runs}</span><span>"runs"</span></div>
            <div class="figure"><span class="n" data-testid="failure-rate">{pct(t.failure_pct)}</span><span>"failed"</span></div>
            <div class="figure"><span class="n" data-testid="escalation-rate">{pct(t.escalation_pct)}</span><span>"escalated by a confidence gate"</span></div>
            <div class="figure"><span class="n">{format!("{} / {}", ms(t.p50_ms), ms(t.p95_ms))}</span><span>"p50 / p95 duration"</span></div>
            <div class="figure"><span class="n" data-testid="edit-rate">{pct(d.edit_pct)}</span><span>"of decisions edited the output"</span></div>
            <div class="figure"><span class="n" data-testid="drift">{drift}</span><span>"confidence drift (PSI)"</span></div>
        </section>
        <Charts f />
        <section class="card" aria-label="Decisions">
            <h2>"What people decided"</h2>
            <table class="table decisions">
                <thead><tr><th>"Approved as proposed"</th><th>"Approved with an edit"</th><th>"Rejected"</th><th>"Waiting"</th></tr></thead>
                <tbody><tr><td>{d.approved}</td><td>{d.edited}</td><td>{d.rejected}</td><td>{d.open}</td></tr></tbody>
            </table>
        </section>
        <AlertRules rules undelivered changed />
    }
}

#[component]
fn Charts(f: Figures) -> impl IntoView {
    let g = f.granularity;
    let labels: Vec<String> = f.buckets.iter().map(|b| label(b.start, g)).collect();
    let col = |get: fn(&crate::domain::monitoring::Bucket) -> Option<f64>| -> Vec<Option<f64>> {
        f.buckets.iter().map(get).collect()
    };
    let runs = vec![
        Series {
            name: "succeeded",
            class: "ok",
            values: col(|b| Some(b.succeeded as f64)),
        },
        Series {
            name: "failed",
            class: "bad",
            values: col(|b| Some(b.failed as f64)),
        },
        Series {
            name: "cancelled",
            class: "muted",
            values: col(|b| Some(b.cancelled as f64)),
        },
        Series {
            name: "running",
            class: "info",
            values: col(|b| Some(b.running as f64)),
        },
    ];
    let rates = vec![
        Series {
            name: "failure rate",
            class: "bad",
            values: col(|b| b.failure_pct),
        },
        Series {
            name: "escalation rate",
            class: "warn",
            values: col(|b| b.escalation_pct),
        },
    ];
    let secs = |v: Option<i64>| v.map(|v| v as f64 / 1000.0);
    let durations = vec![
        Series {
            name: "p50",
            class: "info",
            values: f.buckets.iter().map(|b| secs(b.p50_ms)).collect(),
        },
        Series {
            name: "p95",
            class: "warn",
            values: f.buckets.iter().map(|b| secs(b.p95_ms)).collect(),
        },
    ];
    let bins: Vec<String> = (0..10).map(|i| format!("{:.1}", i as f64 / 10.0)).collect();
    let share = |h: &[u64]| -> Vec<Option<f64>> {
        let n: u64 = h.iter().sum();
        h.iter()
            .map(|c| {
                Some(if n == 0 {
                    0.0
                } else {
                    *c as f64 * 100.0 / n as f64
                })
            })
            .collect()
    };
    let confidence = vec![
        Series {
            name: "this range",
            class: "info",
            values: share(&f.confidence.current),
        },
        Series {
            name: "baseline",
            class: "muted",
            values: share(&f.confidence.baseline),
        },
    ];
    let base = format!(
        "Confidence (share of runs per bin) against {}",
        f.confidence.baseline_label
    );
    view! {
        <section class="charts" aria-label="Charts">
            <BarChart title="Runs" labels=labels.clone() series=runs stacked=true />
            <LineChart title="Failure and escalation rate" labels=labels.clone() series=rates unit="%" />
            <LineChart title="Duration (seconds)" labels=labels series=durations />
            <div>
                <p class="muted small">{base}</p>
                <BarChart title="Confidence" labels=bins series=confidence unit="%" />
            </div>
        </section>
    }
}
