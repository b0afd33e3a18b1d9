//! A run started as the REST API starts one (`Engine::start`) is carried
//! through its opening pure steps in the transaction that inserts it: no
//! worker claims its Start. Its rows must be what a worker would have left,
//! and the first step that calls out goes to a worker as after any
//! completion.

use crate::common::world::*;
use app::domain::graph::*;
use app::domain::run::{RunStatus, StepStatus};
use serde_json::{Value, json};

/// Start -> a -> b -> End, all pure.
pub(crate) fn pure_flow() -> WorkflowDef {
    def(
        vec![
            start(),
            transform("a", "{n: ((.input.n // 0) + 1)}"),
            transform("b", "{n: (.steps.a.output.n * 10)}"),
            end("end", Some(".steps.b.output")),
        ],
        vec![
            ("start", "out", "a"),
            ("a", "out", "b"),
            ("b", "out", "end"),
        ],
    )
}

/// What a run left, without ids, times or the worker: its status and
/// output, each step's final row, its step log and its audit actions.
pub(crate) async fn left_behind(w: &World, run: &app::domain::ids::RunId) -> Value {
    let detail = w.run(run).await;
    let mut steps: Vec<Value> = detail
        .steps
        .iter()
        .map(|s| {
            json!([
                s.node_id,
                s.status.as_str(),
                s.attempt,
                s.port,
                s.output,
                s.confidence,
                s.cum_confidence,
                s.error_class,
                s.error,
                s.started_at.is_some(),
                s.finished_at.is_some()
            ])
        })
        .collect();
    steps.sort_by_key(|s| s[0].to_string());
    let mut conn = w.db.acquire().await.unwrap();
    let page = app::domain::records::Paging::FIRST;
    let mut log: Vec<Value> = app::store::runs::get_attempts(&mut conn, run, page)
        .await
        .unwrap()
        .into_iter()
        .map(|a| json!([a.node_id, a.attempt, a.outcome, a.input, a.output, a.error]))
        .collect();
    log.sort_by_key(|a| a.to_string());
    let actions: Vec<String> = app::store::conn::query_scalar(
        "SELECT action FROM audit_events WHERE run_id = $1 ORDER BY seq",
    )
    .bind(run)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    json!({"status": detail.run.status.as_str(), "output": detail.run.output,
           "error": detail.run.error, "steps": steps, "log": log, "audit": actions})
}

#[tokio::test]
async fn a_run_of_pure_steps_has_ended_when_its_start_returns_as_a_worker_would_leave_it() {
    let w = World::new().await;
    let run = w.start(pure_flow(), json!({"n": 4})).await;
    // no `idle`: nothing was left for a worker
    let carried = left_behind(&w, &run).await;
    assert_eq!(carried["status"], "succeeded", "{carried}");
    assert_eq!(carried["output"], json!({"n": 50}));
    assert_eq!(carried["log"].as_array().unwrap().len(), 4, "{carried}");
    assert_eq!(carried["audit"][0], "run.started", "{carried}");

    // the same run on the simple path: every step claimed by a worker
    let s = World::new().await.on_the_simple_path();
    let claimed = s.start(pure_flow(), json!({"n": 4})).await;
    s.idle().await;
    assert_eq!(carried, left_behind(&s, &claimed).await);

    let mut conn = w.db.acquire().await.unwrap();
    let report = app::store::audit::verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None);
}

#[tokio::test]
async fn a_run_is_carried_to_its_first_call_and_a_worker_takes_it_from_there() {
    let w = World::new().await;
    let rx = crate::common::receiver::Receiver::scripted(vec![200]).await;
    let d = def(
        vec![
            start(),
            transform("a", "{n: 1}"),
            http("call", &rx.url),
            end("end", None),
        ],
        vec![
            ("start", "out", "a"),
            ("a", "out", "call"),
            ("call", "out", "end"),
        ],
    );
    let run = w.start(d, json!({})).await;
    let a = w.step(&run, "a").await;
    assert_eq!((a.status, a.attempt), (StepStatus::Succeeded, 1));
    let call = w.step(&run, "call").await;
    assert_eq!((call.status, call.attempt), (StepStatus::Ready, 0));
    assert_eq!(w.run(&run).await.run.status, RunStatus::Running);
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
    assert_eq!(w.step(&run, "call").await.attempt, 1);
}

#[tokio::test]
async fn an_opening_step_that_fails_fails_the_run_as_after_any_completion() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform("a", "error(\"the vendor is unknown\")"),
            end("end", None),
        ],
        vec![("start", "out", "a"), ("a", "out", "end")],
    );
    let run = w.start(d.clone(), json!({})).await;
    // its first failure is recorded with the start, its retry scheduled
    let a = w.step(&run, "a").await;
    assert_eq!((a.status, a.attempt), (StepStatus::Ready, 1));
    assert_eq!(a.error_class.as_deref(), Some("format"));
    assert!(a.not_before > w.clock.now_ms(), "{a:?}");
    settle(&w, &run).await;
    let carried = left_behind(&w, &run).await;
    assert_eq!(carried["status"], "failed", "{carried}");
    assert!(
        carried["error"]
            .as_str()
            .is_some_and(|e| e.contains("the vendor is unknown")),
        "{carried}"
    );
    let s = World::new().await.on_the_simple_path();
    let claimed = s.start(d, json!({})).await;
    settle(&s, &claimed).await;
    assert_eq!(carried, left_behind(&s, &claimed).await);
}

/// Lets the engine take every retry of `run` until it has ended.
async fn settle(w: &World, run: &app::domain::ids::RunId) {
    for _ in 0..10 {
        w.idle().await;
        if w.run(run).await.run.status != RunStatus::Running {
            return;
        }
        w.clock.advance(600_000);
    }
    panic!("run {run} did not end");
}

/// Hostile input in the opening stretch: the expressions are evaluated in
/// the sandbox, before the write gate is taken, within its bounds; the
/// start answers, and the next run starts as usual.
#[tokio::test]
async fn an_endless_opening_expression_is_cut_at_its_bound_and_fails_its_run() {
    let w = World::new().await;
    let d = def(
        vec![start(), transform("a", "def f: f; f"), end("end", None)],
        vec![("start", "out", "a"), ("a", "out", "end")],
    );
    let began = std::time::Instant::now();
    let run = w.start(d, json!({})).await;
    assert!(began.elapsed() < std::time::Duration::from_secs(20));
    let a = w.step(&run, "a").await;
    assert_eq!(a.attempt, 1);
    assert!(
        a.error.as_deref().unwrap_or("").contains("ran longer than"),
        "{a:?}"
    );
    settle(&w, &run).await;
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Failed);
    assert!(
        r.error.as_deref().unwrap_or("").contains("ran longer than"),
        "{r:?}"
    );
    let next = w.start(pure_flow(), json!({})).await;
    assert_eq!(w.run(&next).await.run.status, RunStatus::Succeeded);
}
