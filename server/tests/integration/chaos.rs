//! Chaos runs through the engine: seeded faults that retries, error edges,
//! confidence gates and recovery must absorb, the same seed giving the same
//! faults, and no chaos on triggered runs.

use crate::common::world::*;
use app::domain::audit::Actor;
use app::domain::chaos::{ChaosPlan, FaultRule};
use app::domain::run::{RunStatus, StepStatus};
use app::ops::runs::{self, Via};
use serde_json::json;

/// Start → a1 … a6 (Transforms, each adding one) → End.
fn chain() -> app::domain::graph::WorkflowDef {
    let mut nodes = vec![start()];
    let mut edges = vec![("start", "out", "a1")];
    let ids: Vec<String> = (1..=6).map(|i| format!("a{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let from = if i == 0 {
            ".input.n".to_string()
        } else {
            format!(".steps.a{i}.output")
        };
        nodes.push(transform(id, &format!("{from} + 1")));
    }
    for w in ids.windows(2) {
        edges.push((w[0].as_str(), "out", w[1].as_str()));
    }
    nodes.push(end("end", Some(".steps.a6.output")));
    edges.push(("a6", "out", "end"));
    def(nodes, edges)
}

fn transient(seed: u64, pct: u32) -> ChaosPlan {
    ChaosPlan {
        seed,
        faults: vec![FaultRule {
            transient_pct: pct,
            ..Default::default()
        }],
    }
}

async fn workflow(w: &World, d: app::domain::graph::WorkflowDef) -> String {
    app::ops::workflows::create(
        &w.db,
        &Actor::anonymous(),
        &format!("chaos {}", fastrand::u64(..)),
        &d,
        false,
        T0,
    )
    .await
    .unwrap()
    .workflow_id
}

async fn chaos_run(w: &World, wf: &str, plan: &ChaosPlan) -> String {
    runs::start_chaos(
        &w.db,
        &Actor::anonymous(),
        wf,
        None,
        &json!({"n": 0}),
        Via::Api,
        plan,
        w.clock.now_ms(),
    )
    .await
    .unwrap()
    .to_string()
}

/// Runs the engine, moving the clock a minute at a time (past retries'
/// backoff and expired leases), until run `id` ends.
async fn drive(w: &World, id: &str) -> app::domain::records::RunDetail {
    for _ in 0..200 {
        w.idle().await;
        let d = w.run(id).await;
        if d.run.status != RunStatus::Running {
            return d;
        }
        w.clock.advance(60_000);
    }
    panic!("run {id} did not end");
}

/// Per step, each attempt's error (None for the one that succeeded).
async fn faults(w: &World, id: &str) -> Vec<(String, i64, Option<String>)> {
    let mut conn = w.db.acquire().await.unwrap();
    let attempts = app::store::runs::get_attempts(
        &mut conn,
        &app::domain::ids::RunId::from_stored(id),
        app::domain::records::Paging::FIRST,
    )
    .await
    .unwrap();
    let mut out: Vec<_> = attempts
        .into_iter()
        .map(|a| (a.node_id, a.attempt, a.error))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn thirty_percent_transient_faults_complete_through_retries_and_the_seed_repeats_them() {
    let w = World::new().await;
    let wf = workflow(&w, chain()).await;
    let plan = transient(7, 30);
    let first = chaos_run(&w, &wf, &plan).await;
    let d = drive(&w, &first).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(d.run.output, Some(json!(6)));
    let seen = faults(&w, &first).await;
    let injected: Vec<_> = seen.iter().filter(|f| f.2.is_some()).collect();
    assert!(
        !injected.is_empty(),
        "30 % of 6 steps' attempts hit nothing: {seen:?}"
    );
    for (_, _, e) in &injected {
        assert_eq!(
            e.as_deref(),
            Some("chaos: injected transient failure (seed 7)")
        );
    }
    // every faulted step was retried until it succeeded
    for step in ["a1", "a2", "a3", "a4", "a5", "a6"] {
        let s = w.step(&first, step).await;
        assert_eq!(s.status, StepStatus::Succeeded);
        let tries = seen.iter().filter(|f| f.0 == step).count() as i64;
        assert_eq!(s.attempt, tries, "{step}");
    }
    // the same seed gives the same faults; another seed others
    let again = chaos_run(&w, &wf, &plan).await;
    assert_eq!(drive(&w, &again).await.run.status, RunStatus::Succeeded);
    assert_eq!(faults(&w, &again).await, seen);
    let other = chaos_run(&w, &wf, &transient(8, 30)).await;
    assert_eq!(drive(&w, &other).await.run.status, RunStatus::Succeeded);
    assert_ne!(faults(&w, &other).await, seen);
    // the run says what was injected, and its start is audited with it
    let started = w.event("run.started", Some(&first)).await;
    assert_eq!(
        started.details["chaos"],
        json!("seed 7; every step: 30 % transient")
    );
    assert_eq!(d.run.chaos, Some(plan));
}

#[tokio::test]
async fn a_business_fault_takes_the_error_edge_and_low_confidence_asks_a_person() {
    let w = World::new().await;
    let mut d = def(
        vec![
            start(),
            transform("pay", ".input.n"),
            end("paid", Some("\"paid\"")),
            end("handled", Some("\"handled\"")),
        ],
        vec![
            ("start", "out", "pay"),
            ("pay", "out", "paid"),
            ("pay", "error", "handled"),
        ],
    );
    let wf = workflow(&w, d.clone()).await;
    let business = ChaosPlan {
        seed: 1,
        faults: vec![FaultRule {
            step: Some("pay".into()),
            business_pct: 100,
            ..Default::default()
        }],
    };
    let id = chaos_run(&w, &wf, &business).await;
    let r = drive(&w, &id).await;
    assert_eq!(r.run.output, Some(json!("handled")));
    assert_eq!(w.step(&id, "pay").await.port.as_deref(), Some("error"));

    d.settings.confidence_threshold = Some(0.8);
    let wf = workflow(&w, d).await;
    let low = ChaosPlan {
        seed: 1,
        faults: vec![FaultRule {
            step: Some("pay".into()),
            low_confidence_pct: 100,
            low_confidence: Some(0.4),
            ..Default::default()
        }],
    };
    let id = chaos_run(&w, &wf, &low).await;
    w.idle().await;
    let pay = w.step(&id, "pay").await;
    assert_eq!(pay.status, StepStatus::Waiting);
    let mut conn = w.db.acquire().await.unwrap();
    let items = app::store::approvals::of_run(&mut conn, &app::domain::ids::RunId::from_stored(id))
        .await
        .unwrap();
    assert_eq!(items.len(), 1, "a person is asked about the doubtful step");
    assert_eq!(items[0].reason, "confidence");
    assert_eq!(items[0].context["step_confidence"], json!(0.4));
}

#[tokio::test]
async fn an_attempt_lost_to_an_injected_death_is_recovered_after_its_lease_and_repeated_deaths_are_capped()
 {
    let w = World::new().await;
    let wf = workflow(&w, chain()).await;
    let death = |seed, pct| ChaosPlan {
        seed,
        faults: vec![FaultRule {
            step: Some("a3".into()),
            death_pct: pct,
            ..Default::default()
        }],
    };
    // a seed whose first a3 attempt dies and whose second lives
    let dies = |seed, attempt| death(seed, 50).inject("a3", "@0", attempt).fault.is_some();
    let seed = (0..).find(|s| dies(*s, 1) && !dies(*s, 2)).unwrap();
    let id = chaos_run(&w, &wf, &death(seed, 50)).await;
    w.idle().await;
    let a3 = w.step(&id, "a3").await;
    assert_eq!(
        a3.status,
        StepStatus::Running,
        "the lost attempt holds its lease"
    );
    let d = drive(&w, &id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
    assert_eq!(d.run.output, Some(json!(6)));
    assert_eq!(w.step(&id, "a3").await.attempt, 2);
    // a step whose process always dies is given up, not run for ever
    let id = chaos_run(&w, &wf, &death(seed, 100)).await;
    let d = drive(&w, &id).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let e = d.run.error.unwrap_or_default();
    assert!(
        e.contains("stopped before it finished, 3 times in a row"),
        "{e}"
    );
}

#[tokio::test]
async fn chaos_is_refused_on_triggered_runs_and_for_a_careless_plan() {
    let w = World::new().await;
    let wf = workflow(&w, chain()).await;
    let start = |via, plan: ChaosPlan| {
        let (db, wf) = (w.db.clone(), wf.clone());
        async move {
            runs::start_chaos(
                &db,
                &Actor::anonymous(),
                &wf,
                None,
                &json!({"n": 0}),
                via,
                &plan,
                T0,
            )
            .await
            .unwrap_err()
            .message
        }
    };
    let e = start(Via::Webhook("t1"), transient(1, 30)).await;
    assert!(e.contains("never into triggered runs"), "{e}");
    let e = start(Via::Schedule("s1"), transient(1, 30)).await;
    assert!(e.contains("never into triggered runs"), "{e}");
    let bad = ChaosPlan {
        seed: 1,
        faults: vec![FaultRule {
            step: Some("ghost".into()),
            transient_pct: 250,
            ..Default::default()
        }],
    };
    let e = start(Via::Api, bad).await;
    assert!(e.starts_with("the chaos plan cannot run:"), "{e}");
    assert!(
        e.contains("no step 'ghost'") && e.contains("transient_pct"),
        "{e}"
    );
}

#[tokio::test]
async fn a_golden_set_run_with_faults_passes_through_retries_and_never_gates_publishing() {
    use app::ops::golden::{self, GateVerdict};
    let w = World::new().await;
    let actor = Actor("user:tester".into());
    let wf = workflow(&w, chain()).await;
    for n in [0, 10, 20] {
        let case = app::domain::golden::CaseSpec {
            name: format!("from {n}"),
            input: json!({"n": n}),
            expect_output: Some(json!(n + 6)),
            ..Default::default()
        };
        golden::create_case(&w.db, &actor, &wf, case, None, T0)
            .await
            .unwrap();
    }
    golden::set_publish_gate(&w.db, &actor, &wf, Some(100.0), T0)
        .await
        .unwrap();
    let plan = transient(11, 30);
    let started = golden::run_suite(&w.db, &actor, &wf, 1, Some(&plan), T0)
        .await
        .unwrap();
    let mut report = None;
    for _ in 0..100 {
        w.idle().await;
        let r = golden::report(&w.db, &w.engine, &started.suite_id, T0)
            .await
            .unwrap();
        if r.finished {
            report = Some(r);
            break;
        }
        w.clock.advance(60_000);
    }
    let report = report.expect("the chaos suite ended");
    assert_eq!(
        (report.totals.total, report.totals.passed),
        (3, 3),
        "{report:#?}"
    );
    let mut retried = 0;
    for c in &report.cases {
        let run = w.run(&c.run_id).await;
        assert_eq!(run.run.chaos, Some(plan.clone()));
        retried += run.steps.iter().filter(|s| s.attempt > 1).count();
    }
    assert!(retried > 0, "30 % transient faults retried no step");
    // a suite with faults says nothing about publishing
    let verdict = golden::gate_check(&w.db, None, &wf, 1, T0).await.unwrap();
    match verdict {
        GateVerdict::Short(why) => assert!(why.contains("has not run"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rest_starts_a_chaos_run_shows_its_plan_and_refuses_a_careless_one() {
    use crate::webhooks::{Stack, three_steps};
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let runs = format!("/api/v1/workflows/{wf}/runs");
    let plan = json!({"seed": 5, "faults": [{"step": "double", "business_pct": 100}]});
    let (s, started) = st
        .api(
            "POST",
            &runs,
            Some(json!({"input": {"amount": 2}, "chaos": plan})),
        )
        .await;
    assert_eq!(s, 202, "{started}");
    let run = started["run_id"].as_str().unwrap();
    let (_, done) = st
        .api("GET", &format!("/api/v1/runs/{run}?wait_ms=10000"), None)
        .await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["chaos"]["seed"], 5);
    assert_eq!(done["chaos"]["faults"][0]["business_pct"], 100);
    let error = done["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("chaos: injected business error (seed 5)"),
        "{error}"
    );
    for (bad, says, status) in [
        (
            json!({"seed": 1, "faults": [{"transient_pct": 300}]}),
            "transient_pct is a percentage (0 to 100), not 300",
            422,
        ),
        (
            json!({"seed": 1, "faults": [{"step": "nope", "death_pct": 5}]}),
            "the workflow has no step 'nope'",
            422,
        ),
        (
            json!({"seed": 1, "faults": []}),
            "at least one fault rule",
            422,
        ),
        (json!({"seed": -1, "faults": []}), "seed", 400),
    ] {
        let (s, e) = st
            .api(
                "POST",
                &runs,
                Some(json!({"input": {"amount": 2}, "chaos": bad})),
            )
            .await;
        assert_eq!(s, status, "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
}
