//! Monitoring through the use cases and the engine: figures over real
//! runs and decisions (test, golden and chaos runs left out), and alert
//! rules that start and stop, audited and told to a local webhook.

use crate::common::receiver::hook;
use crate::common::world::*;
use app::domain::audit::Actor;
use app::domain::monitoring::alerts::{Metric, RuleSpec};
use app::domain::monitoring::{Granularity, HOUR_MS};
use app::ops::monitoring::{self, Baseline, Query};
use app::ops::runs::{self, Via};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// Start → Classify (reports `.input.c` as its confidence; a string fails
/// it) → End, escalating below 0.7.
fn classify() -> app::domain::graph::WorkflowDef {
    let mut d = def(
        vec![
            start(),
            transform("classify", "{label: \"ok\", confidence: (.input.c - 0)}"),
            end("end", Some(".steps.classify.output.label")),
        ],
        vec![("start", "out", "classify"), ("classify", "out", "end")],
    );
    d.settings.confidence_threshold = Some(0.7);
    d
}

async fn workflow(w: &World) -> String {
    let name = format!("monitored {}", fastrand::u64(..));
    app::ops::workflows::create(&w.db, &Actor::anonymous(), &name, &classify(), false, T0)
        .await
        .unwrap()
        .workflow_id
}

async fn runs_with(w: &World, wf: &str, c: Value, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let id = runs::start(
            &w.db,
            &Actor::anonymous(),
            wf,
            None,
            &json!({ "c": c }),
            Via::Api,
            w.clock.now_ms(),
        )
        .await
        .unwrap();
        ids.push(id.to_string());
    }
    w.idle().await;
    ids
}

async fn decide(w: &World, run: &str, decision: &str, output: Option<Value>) {
    let mut conn = w.db.acquire().await.unwrap();
    let items =
        app::store::approvals::of_run(&mut conn, &app::domain::ids::RunId::from_stored(run))
            .await
            .unwrap();
    drop(conn);
    let admin = app::domain::auth::Principal::user("boss", app::domain::auth::Role::Admin);
    app::ops::approvals::decide(
        &w.db,
        &admin,
        items[0].id.as_str(),
        app::ops::approvals::DecisionInput {
            decision: decision.into(),
            comment: String::new(),
            output,
            answers: Default::default(),
        },
        w.clock.now_ms(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn figures_count_outcomes_escalations_and_decisions_and_leave_out_test_golden_and_chaos_runs()
{
    let w = World::new().await;
    let wf = workflow(&w).await;
    runs_with(&w, &wf, json!(0.9), 6).await;
    let doubtful = runs_with(&w, &wf, json!(0.5), 4).await;
    runs_with(&w, &wf, json!("not a number"), 1).await;
    decide(&w, &doubtful[0], "approve", None).await;
    decide(
        &w,
        &doubtful[1],
        "approve",
        Some(json!({"label": "fixed", "confidence": 1})),
    )
    .await;
    decide(&w, &doubtful[2], "reject", None).await;
    w.idle().await;
    // the failing run's retries run out
    for _ in 0..5 {
        w.clock.advance(120_000);
        w.idle().await;
    }
    // left out: a chaos run and a test run of a working copy
    let plan = app::domain::chaos::ChaosPlan {
        seed: 1,
        faults: vec![app::domain::chaos::FaultRule {
            low_confidence_pct: 100,
            ..Default::default()
        }],
    };
    runs::start_chaos(
        &w.db,
        &Actor::anonymous(),
        &wf,
        None,
        &json!({"c": 0.9}),
        Via::Api,
        &plan,
        T0,
    )
    .await
    .unwrap();
    runs::start_test(
        &w.db,
        &Actor::anonymous(),
        &wf,
        &classify(),
        &json!({"c": 0.1}),
        T0,
    )
    .await
    .unwrap();
    w.idle().await;
    let q = around_t0();
    let m = monitoring::figures(&w.db, &wf, &q).await.unwrap();
    let t = &m.figures.total;
    assert_eq!(t.runs, 11, "{t:?}");
    // failed: the string, and the rejected escalation; one still asks
    assert_eq!((t.succeeded, t.failed, t.running), (8, 2, 1), "{t:?}");
    assert_eq!(t.failure_pct, Some(20.0));
    assert_eq!(t.escalations, 4);
    let esc = t.escalation_pct.unwrap();
    assert!((esc - 400.0 / 11.0).abs() < 1e-9, "{esc}");
    let d = &m.figures.decisions;
    assert_eq!(
        (d.approved, d.edited, d.rejected, d.open),
        (1, 1, 1, 1),
        "{d:?}"
    );
    assert_eq!(m.figures.buckets.len(), 2);
    assert_eq!(m.figures.buckets[1].runs, 11);
    // the step's own figures: its confidence as reported
    let step = Query {
        step: Some("classify".into()),
        ..q.clone()
    };
    let s = monitoring::figures(&w.db, &wf, &step).await.unwrap();
    // as reported, before any person decided: 6 sure, 4 doubtful
    assert_eq!(s.figures.confidence.current[9], 6);
    assert_eq!(s.figures.confidence.current[5], 4);
    // the runs' too: where a gate stopped a run, what it was told there
    assert_eq!(m.figures.confidence.current[5], 4);
    // careless ranges and steps are refused with what to fix
    let backwards = Query {
        to: q.from - 1,
        ..q.clone()
    };
    let e = monitoring::figures(&w.db, &wf, &backwards)
        .await
        .unwrap_err();
    assert_eq!(e.message, "the range must end after it starts");
    let long = Query {
        from: q.to - 40 * 24 * HOUR_MS,
        ..q.clone()
    };
    let e = monitoring::figures(&w.db, &wf, &long).await.unwrap_err();
    assert!(e.message.contains("choose daily buckets"), "{}", e.message);
    let ghost = Query {
        step: Some("ghost".into()),
        ..q
    };
    let e = monitoring::figures(&w.db, &wf, &ghost).await.unwrap_err();
    assert!(e.message.contains("no step 'ghost'"), "{}", e.message);
}

/// The two hours around T0, by hour, for the whole workflow.
fn around_t0() -> Query {
    Query {
        from: T0 - HOUR_MS,
        to: T0 + HOUR_MS,
        granularity: Granularity::Hour,
        step: None,
        baseline: Baseline::Previous,
    }
}

#[tokio::test]
async fn an_escalation_alert_starts_and_stops_audited_and_told_to_the_webhook_retrying_a_failed_delivery()
 {
    let w = World::new().await;
    let wf = workflow(&w).await;
    let hook = hook().await;
    let spec = RuleSpec {
        metric: Metric::EscalationRate,
        threshold: 20.0,
        window_minutes: 60,
        min_runs: 5,
        webhook_url: Some(hook.url.clone()),
    };
    let rule = monitoring::create_rule(&w.db, &Actor("user:ops".into()), &wf, spec, T0)
        .await
        .unwrap();
    let base = "http://stepwise.test";
    // too few runs: nothing to judge
    runs_with(&w, &wf, json!(0.9), 3).await;
    assert!(
        w.engine
            .check_alerts(base)
            .await
            .unwrap()
            .started
            .is_empty()
    );
    // 3 sure and 3 doubtful: 50 % escalated, over 20 %; the webhook fails first
    hook.status.store(500, Ordering::SeqCst);
    runs_with(&w, &wf, json!(0.5), 3).await;
    let c = w.engine.check_alerts(base).await.unwrap();
    assert_eq!(c.started, vec![rule.id.clone()]);
    let started = w.event("alert.started", None).await;
    assert_eq!(started.details["rule"], json!(rule.id));
    assert_eq!(started.details["value"], json!(50.0));
    assert_eq!(
        hook.bodies.lock().unwrap().len(),
        1,
        "one try, answered 500"
    );
    let q = around_t0();
    let m = monitoring::figures(&w.db, &wf, &q).await.unwrap();
    assert_eq!(m.rules[0].firing_since, Some(T0));
    assert_eq!(m.undelivered.len(), 1);
    assert!(
        m.undelivered[0]
            .2
            .as_deref()
            .unwrap_or_default()
            .contains("500")
    );
    // checked again while still firing: no second start; the retry waits 20 s
    hook.status.store(200, Ordering::SeqCst);
    assert!(
        w.engine
            .check_alerts(base)
            .await
            .unwrap()
            .started
            .is_empty()
    );
    assert_eq!(hook.bodies.lock().unwrap().len(), 1);
    w.clock.advance(20_000);
    w.engine.check_alerts(base).await.unwrap();
    let bodies = hook.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2);
    let text = bodies[1]["text"].as_str().unwrap();
    assert!(
        text.starts_with(":rotating_light: Alert started on monitored"),
        "{text}"
    );
    assert!(
        text.contains("escalation rate (%) is 50.0 % (threshold 20.0 %, last 60 min)"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("{base}/workflows/{wf}/monitoring")),
        "{text}"
    );
    // an hour later only sure runs: it stops, and says so
    w.clock.advance(61 * 60_000);
    runs_with(&w, &wf, json!(0.95), 5).await;
    let c = w.engine.check_alerts(base).await.unwrap();
    assert_eq!(c.stopped, vec![rule.id.clone()]);
    let stopped = w.event("alert.stopped", None).await;
    assert_eq!(stopped.details["value"], json!(0.0));
    let bodies = hook.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies[2]["text"]
            .as_str()
            .unwrap()
            .starts_with(":white_check_mark: Alert stopped")
    );
    let created = w.event("alert_rule.created", None).await;
    assert_eq!(created.actor, "user:ops");
}

#[tokio::test]
async fn a_careless_alert_rule_is_refused_and_a_webhook_inside_the_network_is_not_called() {
    let w = World::new().await;
    let wf = workflow(&w).await;
    let bad = RuleSpec {
        metric: Metric::FailureRate,
        threshold: 120.0,
        window_minutes: 1,
        min_runs: 1,
        webhook_url: Some("ftp://example.com/x".into()),
    };
    let e = monitoring::create_rule(&w.db, &Actor::anonymous(), &wf, bad, T0)
        .await
        .unwrap_err();
    assert!(
        e.message.starts_with("the alert rule cannot be saved:"),
        "{}",
        e.message
    );
    assert_eq!(e.message.matches("; ").count(), 2, "{}", e.message);
    // a rule whose webhook points inside (not an allowed host) fires, but
    // its notice is refused by the outbound policy and kept as undelivered
    let inside = RuleSpec {
        metric: Metric::OldestWaiting,
        threshold: 0.5,
        window_minutes: 60,
        min_runs: 1,
        webhook_url: Some("http://10.0.0.1:9/hook".into()),
    };
    monitoring::create_rule(&w.db, &Actor::anonymous(), &wf, inside, T0)
        .await
        .unwrap();
    runs_with(&w, &wf, json!(0.1), 1).await;
    w.clock.advance(5 * 60_000);
    let c = w.engine.check_alerts("http://x").await.unwrap();
    assert_eq!(c.started.len(), 1);
    let q = around_t0();
    let m = monitoring::figures(&w.db, &wf, &q).await.unwrap();
    let why = m.undelivered[0].2.clone().unwrap_or_default();
    assert!(why.contains("10.0.0.1"), "{why}");
}
