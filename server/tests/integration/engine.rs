//! The engine driven to idle with a clock the test moves (no sleeps), on a
//! fresh SQLite file, against a real local HTTP server the test starts.

use crate::common::world::*;
use app::domain::audit::Actor;
use app::domain::graph::*;
use app::domain::run::{RunStatus, StepStatus};
use app::ops::runs;
use serde_json::json;
use std::sync::Arc;

/// Start -> Delay(ms) -> End.
fn delay_flow(ms: u64) -> WorkflowDef {
    def(
        vec![
            start(),
            Node::new("wait", "wait", NodeKind::Delay { duration_ms: ms }),
            end("end", None),
        ],
        vec![("start", "out", "wait"), ("wait", "out", "end")],
    )
}

async fn receiver(script: Vec<u16>) -> crate::common::receiver::Receiver {
    crate::common::receiver::Receiver::scripted(script).await
}

#[tokio::test]
async fn a_linear_run_succeeds_with_its_output_and_confidence() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform("double", "{v: (.input.x * 2), confidence: 0.9}"),
            transform("add", "{v: (.steps.double.output.v + 1)}"),
            end("end", Some(".steps.add.output.v")),
        ],
        vec![
            ("start", "out", "double"),
            ("double", "out", "add"),
            ("add", "out", "end"),
        ],
    );
    let id = w.start(d, json!({"x": 20})).await;
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Succeeded, "{:?}", r.run.error);
    assert_eq!(r.run.output, Some(json!(41)));
    assert_eq!(
        r.run.confidence,
        Some(0.9),
        "cumulative confidence is carried to the end"
    );
    let order: Vec<&str> = r.steps.iter().map(|s| s.node_id.as_str()).collect();
    assert_eq!(order, vec!["start", "double", "add", "end"]);
    assert!(
        r.steps
            .iter()
            .all(|s| s.attempt == 1 && s.status == StepStatus::Succeeded)
    );
    let attempts = runs::attempts(&w.db, &id, app::domain::records::Paging::FIRST)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 4);
    assert_eq!(
        attempts[1].input.as_ref().unwrap()["input"]["x"],
        20,
        "the step log keeps the resolved input"
    );
}

#[tokio::test]
async fn branches_skip_untaken_paths_and_joins_do_not_hang() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            Node::new(
                "route",
                "route",
                NodeKind::Branch {
                    conditions: vec![BranchCondition {
                        label: "big".into(),
                        expression: ".input.amount > 1000".into(),
                    }],
                },
            ),
            transform("review", "{reviewed: true}"),
            Node::new("merge", "merge", NodeKind::Join {}),
            end(
                "end",
                Some("{reviewed: (.steps.review.output.reviewed // false)}"),
            ),
        ],
        vec![
            ("start", "out", "route"),
            ("route", "big", "review"),
            ("route", "default", "merge"),
            ("review", "out", "merge"),
            ("merge", "out", "end"),
        ],
    );
    let small = w.start(d.clone(), json!({"amount": 10})).await;
    let big = w.start(d, json!({"amount": 5000})).await;
    w.idle().await;
    let (s, b) = (w.run(&small).await, w.run(&big).await);
    assert_eq!(
        (s.run.status, b.run.status),
        (RunStatus::Succeeded, RunStatus::Succeeded)
    );
    assert_eq!(w.step(&small, "review").await.status, StepStatus::Skipped);
    assert_eq!(s.run.output, Some(json!({"reviewed": false})));
    assert_eq!(b.run.output, Some(json!({"reviewed": true})));
}

/// A pure stretch runs in the transaction that finished the step before it;
/// each of its steps still ends up with one attempt, its start and finish
/// times and one line in the step log, like a step a worker claimed.
#[tokio::test]
async fn steps_run_on_the_spot_are_logged_like_claimed_ones() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform("a", "{n: 1}"),
            transform("b", "{n: (.steps.a.output.n + 1)}"),
            transform("c", "{n: (.steps.b.output.n + 1)}"),
            end("end", Some(".steps.c.output")),
        ],
        vec![
            ("start", "out", "a"),
            ("a", "out", "b"),
            ("b", "out", "c"),
            ("c", "out", "end"),
        ],
    );
    let run = w.start(d, json!({})).await;
    w.idle().await;
    let detail = w.run(&run).await;
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    assert_eq!(detail.run.output, Some(json!({"n": 3})));
    let mut conn = w.db.acquire().await.unwrap();
    let attempts =
        app::store::runs::get_attempts(&mut conn, &run, app::domain::records::Paging::FIRST)
            .await
            .unwrap();
    let mut logged: Vec<(&str, i64)> = attempts
        .iter()
        .map(|a| (a.node_id.as_str(), a.attempt))
        .collect();
    logged.sort();
    assert_eq!(
        logged,
        [("a", 1), ("b", 1), ("c", 1), ("end", 1), ("start", 1)]
    );
    for id in ["start", "a", "b", "c", "end"] {
        let s = w.step(&run, id).await;
        assert_eq!((s.status, s.attempt), (StepStatus::Succeeded, 1), "{id}");
        assert!(s.started_at.is_some() && s.finished_at.is_some(), "{id}");
    }
    assert_eq!(
        w.step(&run, "b").await.cum_confidence,
        Some(1.0),
        "the confidence carried in"
    );
}

#[tokio::test]
async fn transient_errors_retry_with_backoff_and_the_same_idempotency_key() {
    let w = World::new().await;
    let rx = receiver(vec![503, 429]).await;
    let d = def(
        vec![start(), http("call", &rx.url), end("end", None)],
        vec![("start", "out", "call"), ("call", "out", "end")],
    );
    let id = w.start(d, json!({"n": 1})).await;
    w.idle().await;
    let step = w.step(&id, "call").await;
    assert_eq!((step.status, step.attempt), (StepStatus::Ready, 1));
    assert_eq!(
        step.not_before,
        T0 + 1_000,
        "first retry after the initial delay"
    );
    assert_eq!(step.error_class.as_deref(), Some("transient"));
    w.clock.advance(999);
    w.idle().await;
    assert_eq!(w.step(&id, "call").await.attempt, 1, "not before its time");
    w.clock.advance(1);
    w.idle().await;
    let step = w.step(&id, "call").await;
    assert_eq!(
        (step.attempt, step.not_before),
        (2, T0 + 1_000 + 2_000),
        "then twice as long"
    );
    w.clock.advance(2_000);
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Succeeded);
    let keys = rx.keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| *k == format!("{id}:call")), "{keys:?}");
}

#[tokio::test]
async fn business_errors_do_not_retry_and_take_the_error_edge() {
    let w = World::new().await;
    let rx = receiver(vec![404]).await;
    let d = def(
        vec![
            start(),
            http("call", &rx.url),
            end("ok", None),
            transform("explain", "{handled: true}"),
            end("handled", Some(".steps.explain.output")),
        ],
        vec![
            ("start", "out", "call"),
            ("call", "out", "ok"),
            ("call", "error", "explain"),
            ("explain", "out", "handled"),
        ],
    );
    let id = w.start(d, json!({})).await;
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Succeeded);
    assert_eq!(r.run.output, Some(json!({"handled": true})));
    let call = w.step(&id, "call").await;
    assert_eq!(
        (call.status, call.attempt, call.error_class.as_deref()),
        (StepStatus::Failed, 1, Some("business"))
    );
    assert_eq!(w.step(&id, "ok").await.status, StepStatus::Skipped);
    assert_eq!(rx.keys.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn format_errors_retry_once_then_fail_the_run() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform("bad", ".input.x | error(\"no good\")"),
            end("end", None),
        ],
        vec![("start", "out", "bad"), ("bad", "out", "end")],
    );
    let id = w.start(d, json!({"x": 1})).await;
    w.idle().await;
    assert_eq!(w.step(&id, "bad").await.status, StepStatus::Ready);
    w.clock.advance(1_000);
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Failed);
    assert!(
        r.run.error.as_deref().unwrap().contains("no good"),
        "{:?}",
        r.run.error
    );
    assert_eq!(w.step(&id, "bad").await.attempt, 2);
    assert_eq!(w.step(&id, "end").await.status, StepStatus::Cancelled);
}

#[tokio::test]
async fn a_fail_node_fails_the_run_with_its_message() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            Node::new(
                "stop",
                "stop",
                NodeKind::Fail {
                    message: "vendor {{ input.vendor }} is blocked".into(),
                },
            ),
        ],
        vec![("start", "out", "stop")],
    );
    let id = w.start(d, json!({"vendor": "ACME"})).await;
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Failed);
    assert!(r.run.error.unwrap().contains("vendor ACME is blocked"));
}

#[tokio::test]
async fn delays_park_without_a_worker_and_wake_on_time() {
    let w = World::new().await;
    let d = delay_flow(60_000);
    let id = w.start(d, json!({})).await;
    w.idle().await;
    let s = w.step(&id, "wait").await;
    assert_eq!((s.status, s.not_before), (StepStatus::Waiting, T0 + 60_000));
    assert_eq!(w.engine.next_due().await.unwrap(), Some(T0 + 60_000));
    w.clock.advance(60_000);
    w.idle().await;
    assert_eq!(w.run(&id).await.run.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn an_expired_lease_is_recovered_as_a_new_attempt_and_the_late_result_is_discarded() {
    let w = World::new().await;
    let d = def(
        vec![start(), transform("t", "{ok: true}"), end("end", None)],
        vec![("start", "out", "t"), ("t", "out", "end")],
    );
    let id = w.start_queued(d, json!({})).await;
    // A worker that dies right after claiming the Start step.
    let mut conn = w.db.acquire().await.unwrap();
    let lost = app::store::runs::claim(&mut conn, "dead-worker", T0, T0 + 30_000)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    w.idle().await;
    assert_eq!(
        w.step(&id, "start").await.status,
        StepStatus::Running,
        "leased elsewhere: left alone"
    );
    w.clock.advance(30_001);
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Succeeded);
    assert_eq!(w.step(&id, "start").await.attempt, 2);
    let attempts = runs::attempts(&w.db, &id, app::domain::records::Paging::FIRST)
        .await
        .unwrap();
    assert!(
        attempts
            .iter()
            .any(|a| a.node_id == "start" && a.attempt == 1 && a.outcome == "lost")
    );
    // the dead worker's lease is gone: it could not complete the step now
    let mut conn = w.db.acquire().await.unwrap();
    assert!(
        !app::store::runs::holds_lease(&mut conn, &lost, "dead-worker")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn cancel_stops_a_run_and_is_audited() {
    let w = World::new().await;
    let d = delay_flow(1_000);
    let id = w.start(d, json!({})).await;
    w.idle().await;
    runs::cancel(&w.db, &Actor("alice".into()), &id, T0 + 10)
        .await
        .unwrap();
    w.clock.advance(5_000);
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Cancelled);
    assert_eq!(w.step(&id, "wait").await.status, StepStatus::Cancelled);
    let err = runs::cancel(&w.db, &Actor::anonymous(), &id, T0 + 20)
        .await
        .unwrap_err();
    assert!(err.message.contains("already cancelled"), "{}", err.message);
    let mut conn = w.db.acquire().await.unwrap();
    let events = app::store::audit::list(&mut conn, Some(&format!("run:{id}")), 10)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "run.cancelled" && e.actor == "alice")
    );
}

#[tokio::test]
async fn a_failed_step_can_be_retried_with_edited_input() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform(
                "check",
                "if .input.ok then {fine: true} else error(\"not ok\") end",
            ),
            end("end", Some(".steps.check.output")),
        ],
        vec![("start", "out", "check"), ("check", "out", "end")],
    );
    let id = w.start(d, json!({"ok": false})).await;
    w.idle().await;
    w.clock.advance(1_000);
    w.idle().await;
    assert_eq!(w.run(&id).await.run.status, RunStatus::Failed);
    let edited = json!({"input": {"ok": true}, "steps": {}});
    runs::retry_step(
        &w.db,
        &Actor("bob".into()),
        &id,
        "check",
        Some(&edited),
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    assert_eq!(w.run(&id).await.run.status, RunStatus::Running);
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Succeeded, "{:?}", r.run.error);
    assert_eq!(r.run.output, Some(json!({"fine": true})));
    assert_eq!(w.step(&id, "check").await.attempt, 3);
    let err = runs::retry_step(&w.db, &Actor::anonymous(), &id, "check", None, T0)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("only a failed step"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_retry_input_that_is_not_an_object_is_refused_and_the_successors_see_the_run_context() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform(
                "check",
                "if .input.ok then {fine: true} else error(\"not ok\") end",
            ),
            transform(
                "after",
                "{fine: .steps.check.output.fine, n: (.steps | length)}",
            ),
            end("end", Some(".steps.after.output")),
        ],
        vec![
            ("start", "out", "check"),
            ("check", "out", "after"),
            ("after", "out", "end"),
        ],
    );
    let id = w.start(d, json!({"ok": false})).await;
    w.idle().await;
    w.clock.advance(1_000);
    w.idle().await;
    // regression: an array here reached code that indexes it as an object
    for bad in [json!([1, 2]), json!("text"), json!(null)] {
        let err = runs::retry_step(&w.db, &Actor::anonymous(), &id, "check", Some(&bad), T0)
            .await
            .unwrap_err();
        assert!(
            err.message.contains("must be a JSON object"),
            "{}",
            err.message
        );
    }
    let edited = json!({"input": {"ok": true}});
    runs::retry_step(&w.db, &Actor::anonymous(), &id, "check", Some(&edited), T0)
        .await
        .unwrap();
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Succeeded, "{:?}", r.run.error);
    // `after` saw the run's context (start and check), not the edited input
    assert_eq!(r.run.output, Some(json!({"fine": true, "n": 2})));
}

#[tokio::test]
async fn a_run_past_its_timeout_fails() {
    let w = World::new().await;
    let mut d = delay_flow(120_000);
    d.settings.run_timeout_ms = Some(60_000);
    let id = w.start(d, json!({})).await;
    w.idle().await;
    w.clock.advance(60_000);
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Failed);
    assert!(r.run.error.unwrap().contains("timeout of 60000 ms"));
}

#[tokio::test]
async fn parallel_paths_both_run_and_the_join_waits() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform("a", "{a: 1, confidence: 0.8}"),
            transform("b", "{b: 2, confidence: 0.5}"),
            Node::new("j", "j", NodeKind::Join {}),
            end("end", Some(".steps.a.output.a + .steps.b.output.b")),
        ],
        vec![
            ("start", "out", "a"),
            ("start", "out", "b"),
            ("a", "out", "j"),
            ("b", "out", "j"),
            ("j", "out", "end"),
        ],
    );
    let id = w.start(d, json!({})).await;
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Succeeded);
    assert_eq!(r.run.output, Some(json!(3)));
    assert_eq!(
        r.run.confidence,
        Some(0.5),
        "the join takes the weakest path"
    );
}

#[tokio::test]
async fn input_must_match_the_start_schema() {
    let w = World::new().await;
    let mut d = def(
        vec![start(), end("end", None)],
        vec![("start", "out", "end")],
    );
    d.nodes[0].kind = NodeKind::Start {
        input_schema: Some(
            json!({"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}),
        ),
    };
    let wf = app::ops::workflows::create(&w.db, &Actor::anonymous(), "typed", &d, false, T0)
        .await
        .unwrap();
    let err = runs::start(
        &w.db,
        &Actor::anonymous(),
        &wf.workflow_id,
        None,
        &json!({"amount": "ten"}),
        app::ops::runs::Via::Api,
        T0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, app::error::ErrorCode::InvalidInput);
    assert!(err.message.contains("/amount"), "{}", err.message);
    runs::start(
        &w.db,
        &Actor::anonymous(),
        &wf.workflow_id,
        None,
        &json!({"amount": 10}),
        app::ops::runs::Via::Api,
        T0,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_response_that_does_not_match_its_schema_is_a_format_error() {
    let w = World::new().await;
    let rx = receiver(vec![]).await;
    let mut call = http("call", &rx.url);
    if let NodeKind::Http {
        response_schema, ..
    } = &mut call.kind
    {
        *response_schema = Some(json!({"type": "object", "required": ["id"]}));
    }
    let d = def(
        vec![start(), call, end("end", None)],
        vec![("start", "out", "call"), ("call", "out", "end")],
    );
    let id = w.start(d, json!({})).await;
    w.idle().await;
    let s = w.step(&id, "call").await;
    assert_eq!(
        (s.status, s.error_class.as_deref()),
        (StepStatus::Ready, Some("format")),
        "format errors retry once"
    );
    assert!(s.error.unwrap().contains("expected schema"));
    w.clock.advance(1_000);
    w.idle().await;
    assert_eq!(w.run(&id).await.run.status, RunStatus::Failed);
}

#[tokio::test]
async fn a_failed_run_compensates_completed_reversible_steps_in_reverse_order() {
    let w = World::new().await;
    let rx = receiver(vec![]).await;
    let reversible = |id: &str| {
        let mut n = http(id, &rx.url);
        n.reversible = true;
        n.compensation = Some(HttpRequest {
            method: "POST".into(),
            url: rx.url.clone(),
            headers: Default::default(),
            body: Some(format!("undo {id}")),
        });
        n
    };
    let d = def(
        vec![
            start(),
            reversible("reserve"),
            reversible("charge"),
            transform("plain", "{}"),
            Node::new(
                "stop",
                "stop",
                NodeKind::Fail {
                    message: "out of stock".into(),
                },
            ),
        ],
        vec![
            ("start", "out", "reserve"),
            ("reserve", "out", "charge"),
            ("charge", "out", "plain"),
            ("plain", "out", "stop"),
        ],
    );
    let id = w.start(d, json!({})).await;
    w.idle().await;
    let r = w.run(&id).await;
    assert_eq!(r.run.status, RunStatus::Failed);
    let keys = rx.keys.lock().unwrap().clone();
    assert_eq!(
        keys,
        vec![
            format!("{id}:reserve"),
            format!("{id}:charge"),
            format!("{id}:charge~compensate"),
            format!("{id}:reserve~compensate"),
        ],
        "the last completed step is undone first"
    );
    for step in ["charge~compensate", "reserve~compensate"] {
        assert_eq!(
            w.step(&id, step).await.status,
            StepStatus::Succeeded,
            "{step}"
        );
    }
    let mut conn = w.db.acquire().await.unwrap();
    let events = app::store::audit::list(&mut conn, Some(&format!("run:{id}")), 10)
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.action == "run.compensating"));
}

#[tokio::test]
async fn a_step_past_its_timeout_is_a_transient_failure_and_retries() {
    let w = World::new().await;
    let rx = receiver(vec![0]).await;
    let mut call = http("call", &rx.url);
    call.timeout_ms = Some(100);
    let d = def(
        vec![start(), call, end("end", None)],
        vec![("start", "out", "call"), ("call", "out", "end")],
    );
    let id = w.start(d, json!({})).await;
    w.idle().await;
    let s = w.step(&id, "call").await;
    assert_eq!(
        (s.status, s.error_class.as_deref()),
        (StepStatus::Ready, Some("transient"))
    );
    assert!(s.error.unwrap().contains("timed out"));
    w.clock.advance(1_000);
    w.idle().await;
    assert_eq!(w.run(&id).await.run.status, RunStatus::Succeeded);
    assert_eq!(rx.keys.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_panic_fails_the_attempt_with_a_reference_and_the_worker_goes_on() {
    let w = World::new().await;
    let engine = crate::common::engine(w.db.clone(), w.clock.clone(), 30_000)
        .without_jitter()
        .with_panic_on("boom");
    let d = def(
        vec![
            start(),
            http("boom", "http://127.0.0.1:9/never"),
            end("end", None),
        ],
        vec![("start", "out", "boom"), ("boom", "out", "end")],
    );
    let first = w.start(d.clone(), json!({})).await;
    // regression: the panic ended the worker task for good
    engine.run_until_idle().await.unwrap();
    let step = w.step(&first, "boom").await;
    assert_eq!(step.error_class.as_deref(), Some("transient"));
    let error = step.error.unwrap_or_default();
    assert!(
        error.starts_with("internal error while running the step (reference "),
        "{error}"
    );
    assert_eq!(
        (step.status, step.attempt),
        (StepStatus::Ready, 1),
        "retried as transient"
    );
    // the same engine goes on with other work
    let other = w
        .start(
            def(
                vec![start(), transform("t", "{ok: true}"), end("end", None)],
                vec![("start", "out", "t"), ("t", "out", "end")],
            ),
            json!({}),
        )
        .await;
    engine.run_until_idle().await.unwrap();
    assert_eq!(w.run(&other).await.run.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn a_step_of_a_run_that_compensated_cannot_be_retried() {
    let w = World::new().await;
    let rx = receiver(vec![]).await;
    let mut reserve = http("reserve", &rx.url);
    reserve.reversible = true;
    reserve.compensation = Some(HttpRequest {
        method: "POST".into(),
        url: rx.url.clone(),
        headers: Default::default(),
        body: Some("undo".into()),
    });
    let d = def(
        vec![
            start(),
            reserve,
            transform("check", "error(\"out of stock\")"),
            end("end", None),
        ],
        vec![
            ("start", "out", "reserve"),
            ("reserve", "out", "check"),
            ("check", "out", "end"),
        ],
    );
    let id = w.start(d, json!({})).await;
    w.idle().await;
    w.clock.advance(60_000);
    w.idle().await;
    assert_eq!(w.run(&id).await.run.status, RunStatus::Failed);
    assert_eq!(
        w.step(&id, "reserve~compensate").await.status,
        StepStatus::Succeeded
    );
    // regression: the retry was allowed, failed again, and inserted the
    // same compensation a second time, which rolled back every completion
    let err = runs::retry_step(
        &w.db,
        &Actor::anonymous(),
        &id,
        "check",
        None,
        w.clock.now_ms(),
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("already undone"), "{}", err.message);
    assert_eq!(w.run(&id).await.run.status, RunStatus::Failed);
    assert_eq!(
        rx.keys.lock().unwrap().len(),
        2,
        "the call and its undo, once each"
    );
}

#[tokio::test]
async fn live_workers_are_counted_until_they_stop() {
    let w = World::new().await;
    let engine = Arc::new(crate::common::engine(w.db.clone(), w.clock.clone(), 30_000));
    assert_eq!(engine.workers(), (0, 0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let config = server::engine::EngineConfig {
        workers: 3,
        ..Default::default()
    };
    let handles = engine.spawn(&config, stopped);
    for _ in 0..1000 {
        if engine.workers().1 == 3 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(engine.workers(), (3, 3));
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(engine.workers(), (3, 0), "stopped workers are not live");
}
