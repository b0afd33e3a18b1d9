use super::alerts::{self, Change, Metric, RuleSpec, Window};
use super::*;

const T: i64 = 1_800_000_000_000 / DAY_MS * DAY_MS;

fn run(at: i64, status: RunStatus, ms: i64, c: Option<f64>) -> RunPoint {
    RunPoint {
        at,
        status,
        ms: (status != RunStatus::Running).then_some(ms),
        confidence: c,
    }
}

fn item(at: i64, gate: bool, outcome: ItemOutcome) -> ItemPoint {
    ItemPoint { at, gate, outcome }
}

#[test]
fn runs_fall_in_hour_buckets_with_their_rates_and_percentiles() {
    let mut runs = Vec::new();
    // hour 0: 10 runs taking 1..10 s, 2 failed; hour 2: 1 running
    for i in 0..10 {
        let status = if i < 2 {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        };
        runs.push(run(T + i * 1000, status, (i + 1) * 1000, Some(0.9)));
    }
    runs.push(run(T + 2 * HOUR_MS + 5, RunStatus::Running, 0, None));
    // outside the range: left out
    runs.push(run(T - 1, RunStatus::Failed, 1, None));
    runs.push(run(T + 3 * HOUR_MS, RunStatus::Failed, 1, None));
    let items = vec![
        item(T + 10, true, ItemOutcome::Approved),
        item(T + 20, true, ItemOutcome::Edited),
        item(T + 30, false, ItemOutcome::Rejected),
        item(T + 2 * HOUR_MS, false, ItemOutcome::Open),
    ];
    let f = figures(
        T,
        T + 3 * HOUR_MS,
        Granularity::Hour,
        &runs,
        &items,
        &[],
        "none",
    );
    assert_eq!(f.buckets.len(), 3);
    let b = &f.buckets[0];
    assert_eq!((b.runs, b.succeeded, b.failed), (10, 8, 2));
    assert_eq!(b.failure_pct, Some(20.0));
    assert_eq!((b.p50_ms, b.p95_ms), (Some(5000), Some(10_000)));
    assert_eq!((b.escalations, b.approvals), (2, 1));
    assert_eq!(b.escalation_pct, Some(20.0));
    assert_eq!(b.asked_pct, Some(30.0));
    assert_eq!(f.buckets[1].runs, 0);
    assert_eq!(f.buckets[1].failure_pct, None);
    assert_eq!(f.buckets[2].running, 1);
    assert_eq!(f.buckets[2].p50_ms, None);
    assert_eq!(f.total.runs, 11);
    assert_eq!(f.total.failure_pct, Some(20.0));
    assert_eq!(
        (
            f.decisions.approved,
            f.decisions.edited,
            f.decisions.rejected,
            f.decisions.open
        ),
        (1, 1, 1, 1)
    );
    let third = 100.0 / 3.0;
    assert!((f.decisions.edit_pct.unwrap() - third).abs() < 1e-9);
    assert_eq!(f.confidence.current[9], 10);
}

#[test]
fn day_buckets_start_at_midnight_utc_and_are_capped() {
    assert_eq!(bucket_start(T + 5 * HOUR_MS, Granularity::Day), T);
    let f = figures(
        T + HOUR_MS,
        T + 3 * DAY_MS,
        Granularity::Day,
        &[],
        &[],
        &[],
        "",
    );
    assert_eq!(f.buckets.len(), 3);
    assert_eq!(f.buckets[0].start, T);
    let huge = figures(0, i64::MAX / 2, Granularity::Hour, &[], &[], &[], "");
    assert_eq!(huge.buckets.len() as i64, MAX_BUCKETS);
}

#[test]
fn confidence_drift_against_the_baseline() {
    let sure: Vec<f64> = (0..100).map(|i| 0.9 + (i % 10) as f64 * 0.01).collect();
    let runs: Vec<RunPoint> = (0..100)
        .map(|i| {
            run(
                T + i,
                RunStatus::Succeeded,
                1,
                Some(if i < 50 { 0.95 } else { 0.35 }),
            )
        })
        .collect();
    let f = figures(
        T,
        T + HOUR_MS,
        Granularity::Hour,
        &runs,
        &[],
        &sure,
        "the previous hour",
    );
    let psi = f.confidence.psi.unwrap();
    assert!(psi > 0.25, "{psi}");
    assert_eq!(f.confidence.reading.as_deref(), Some("significant shift"));
    assert_eq!(f.confidence.baseline[9], 100);
    let same: Vec<RunPoint> = sure
        .iter()
        .map(|c| run(T, RunStatus::Succeeded, 1, Some(*c)))
        .collect();
    let f = figures(T, T + HOUR_MS, Granularity::Hour, &same, &[], &sure, "");
    assert_eq!(f.confidence.psi, Some(0.0));
    assert_eq!(f.confidence.reading.as_deref(), Some("stable"));
}

fn spec(metric: Metric, threshold: f64) -> RuleSpec {
    RuleSpec {
        metric,
        threshold,
        window_minutes: 60,
        min_runs: 5,
        webhook_url: None,
    }
}

#[test]
fn each_metric_is_measured_over_its_window() {
    let runs: Vec<RunPoint> = (0..10)
        .map(|i| {
            let st = if i < 3 {
                RunStatus::Failed
            } else {
                RunStatus::Succeeded
            };
            run(T + i, st, 1, Some(0.5))
        })
        .collect();
    let items: Vec<ItemPoint> = (0..4)
        .map(|i| item(T + i, i != 0, ItemOutcome::Open))
        .collect();
    let w = Window {
        runs,
        items,
        previous_confidences: vec![0.95; 30],
        oldest_open_at: Some(T),
    };
    let now = T + 90 * 60_000;
    assert_eq!(
        alerts::measure(&spec(Metric::EscalationRate, 10.0), &w, now),
        Some(30.0)
    );
    assert_eq!(
        alerts::measure(&spec(Metric::FailureRate, 10.0), &w, now),
        Some(30.0)
    );
    assert_eq!(
        alerts::measure(&spec(Metric::OldestWaiting, 10.0), &w, now),
        Some(90.0)
    );
    // drift needs 20 confidences on each side
    assert_eq!(alerts::measure(&spec(Metric::Drift, 0.25), &w, now), None);
    let many = Window {
        runs: (0..25)
            .map(|i| run(T + i, RunStatus::Succeeded, 1, Some(0.5)))
            .collect(),
        ..w.clone()
    };
    let drift = alerts::measure(&spec(Metric::Drift, 0.25), &many, now);
    assert!(drift.unwrap() > 1.0);
    // too few runs: no value, so the rule stays as it is
    let few = Window {
        runs: w.runs[..4].to_vec(),
        ..w.clone()
    };
    assert_eq!(
        alerts::measure(&spec(Metric::EscalationRate, 10.0), &few, now),
        None
    );
    assert_eq!(alerts::decide(true, None, 10.0), Change::Same);
    // nothing waiting: zero minutes
    let quiet = Window::default();
    assert_eq!(
        alerts::measure(&spec(Metric::OldestWaiting, 10.0), &quiet, now),
        Some(0.0)
    );
}

#[test]
fn a_rule_starts_above_its_threshold_and_stops_at_or_below_it() {
    assert_eq!(alerts::decide(false, Some(30.0), 20.0), Change::Started);
    assert_eq!(alerts::decide(false, Some(20.0), 20.0), Change::Same);
    assert_eq!(alerts::decide(true, Some(25.0), 20.0), Change::Same);
    assert_eq!(alerts::decide(true, Some(20.0), 20.0), Change::Stopped);
    let n = alerts::notice(
        "Invoices",
        &spec(Metric::EscalationRate, 20.0),
        42.0,
        Change::Started,
        "http://x/w",
    );
    assert_eq!(
        n["text"],
        ":rotating_light: Alert started on Invoices: escalation rate (%) is 42.0 % (threshold 20.0 %, last 60 min). http://x/w"
    );
    assert_eq!(alerts::retry_after_ms(0), 10_000);
    assert_eq!(alerts::retry_after_ms(3), 80_000);
    assert_eq!(alerts::retry_after_ms(99), 3_600_000);
}

#[test]
fn a_careless_rule_is_refused_with_what_to_fix() {
    let mut bad = spec(Metric::FailureRate, 150.0);
    bad.window_minutes = 0;
    bad.min_runs = 0;
    bad.webhook_url = Some("file:///etc/passwd".into());
    let p = bad.problems();
    assert_eq!(p.len(), 4, "{p:?}");
    assert!(p[0].contains("below 100, not 150"));
    assert!(p[1].contains("window_minutes must be 5 to 10080"));
    assert!(p[2].contains("min_runs must be 1 to 100000"));
    assert!(p[3].contains("webhook_url must be an http(s) address"));
    let mut nan = spec(Metric::Drift, f64::NAN);
    nan.webhook_url = Some("http:// evil".into());
    assert_eq!(nan.problems().len(), 2);
    assert!(spec(Metric::Drift, 0.25).problems().is_empty());
    let mut ok = spec(Metric::OldestWaiting, 30.0);
    ok.webhook_url = Some("https://hooks.slack.com/services/T/B/X".into());
    assert!(ok.problems().is_empty());
}
