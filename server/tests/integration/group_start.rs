//! REST starts that come while the write gate is held share one
//! transaction (`engine::group`): each run is left as it would be alone, a
//! run that cannot be written fails alone, and a start whose request went
//! away takes nobody else's run with it.

use crate::common::world::*;
use crate::fresh_start::{left_behind, pure_flow};
use app::domain::audit::Actor;
use app::domain::ids::RunId;
use app::domain::run::RunStatus;
use serde_json::json;
use server::engine::Engine;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

type Started = JoinHandle<Result<(RunId, Option<RunStatus>), app::error::AppError>>;

/// A second engine on `w`'s database, shared as the server shares it.
fn shared(w: &World) -> Arc<Engine> {
    Arc::new(crate::common::engine(w.db.clone(), w.clock.clone(), 30_000).without_jitter())
}

/// Starts each of `rows` on `engine` at once, and waits until all of them
/// wait for a transaction (the test holds the gate).
async fn queue(engine: &Arc<Engine>, rows: Vec<app::ops::runs::RunRows>) -> Vec<Started> {
    let n = rows.len();
    let started: Vec<Started> = rows
        .into_iter()
        .map(|r| {
            let e = engine.clone();
            tokio::spawn(async move { e.start_told(r).await.map(|s| (s.id, s.ended)) })
        })
        .collect();
    for _ in 0..2_000 {
        if engine.starts_waiting() == n {
            return started;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{} of {n} starts waited", engine.starts_waiting());
}

async fn chain_is_whole(w: &World) {
    let mut conn = w.db.acquire().await.unwrap();
    let report = app::store::audit::verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None);
}

#[tokio::test]
async fn starts_that_wait_for_the_gate_share_one_transaction_and_each_run_is_left_as_alone() {
    let w = World::new().await;
    let alone = w.start(pure_flow(), json!({"n": 4})).await;
    let expected = left_behind(&w, &alone).await;
    assert_eq!(expected["status"], "succeeded", "{expected}");
    let engine = shared(&w);
    let mut rows = Vec::new();
    for _ in 0..10 {
        rows.push(
            w.prepare(&Actor::anonymous(), pure_flow(), json!({"n": 4}))
                .await,
        );
    }
    let gate = w.db.write().await.unwrap();
    let started = queue(&engine, rows).await;
    drop(gate);
    let mut ids = Vec::new();
    for s in started {
        let (id, ended) = s.await.unwrap().unwrap();
        assert_eq!(ended, Some(RunStatus::Succeeded));
        ids.push(id);
    }
    assert_eq!(
        engine.start_groups(),
        (2, 10),
        "one transaction carried eight (the most), the next the two left"
    );
    for id in &ids {
        assert_eq!(left_behind(&w, id).await, expected, "run {id}");
    }
    chain_is_whole(&w).await;
}

/// Starts that answer with their run (a synchronous REST start) read it in
/// the transaction that wrote it: each gets its own run, as a later read
/// shows it, whether it shares the transaction or has one of its own.
#[tokio::test]
async fn starts_that_answer_with_their_run_each_get_it_as_a_later_read_shows_it() {
    let w = World::new().await;
    let engine = shared(&w);
    let as_read = |id: RunId| {
        let db = w.db.clone();
        async move {
            let run = app::ops::runs::get(&db, id.as_str()).await.unwrap();
            serde_json::to_value(run).unwrap()
        }
    };
    // alone
    let rows = w
        .prepare(&Actor::anonymous(), pure_flow(), json!({"n": 1}))
        .await;
    let started = engine.start_viewed(rows, true).await.unwrap();
    let view = serde_json::to_value(started.view.expect("the run as written").run).unwrap();
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view, as_read(started.id).await);
    // four at once, two of them asking: one transaction
    let mut rows = Vec::new();
    for n in 0..4 {
        rows.push(
            w.prepare(&Actor::anonymous(), pure_flow(), json!({"n": n}))
                .await,
        );
    }
    let mut waiting = Vec::new();
    let gate = w.db.write().await.unwrap();
    for (n, rows) in rows.into_iter().enumerate() {
        let e = engine.clone();
        waiting.push(tokio::spawn(async move {
            e.start_viewed(rows, n % 2 == 0).await
        }));
        while engine.starts_waiting() < n + 1 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    drop(gate);
    for (n, s) in waiting.into_iter().enumerate() {
        let started = s.await.unwrap().unwrap();
        assert_eq!(started.ended, Some(RunStatus::Succeeded));
        let read = as_read(started.id.clone()).await;
        assert_eq!(read["output"], json!({"n": (n as i64 + 1) * 10}), "{read}");
        match (n % 2 == 0, started.view) {
            (true, Some(view)) => assert_eq!(serde_json::to_value(view.run).unwrap(), read),
            (true, None) => panic!("start {n} asked for its run and got none"),
            (false, _) => {}
        }
    }
    assert_eq!(
        engine.start_groups(),
        (2, 5),
        "alone, then the four together"
    );
    chain_is_whole(&w).await;
}

#[tokio::test]
async fn a_run_that_cannot_be_written_fails_alone_and_the_rest_of_its_group_stands() {
    let w = World::new().await;
    let engine = shared(&w);
    // three runs and the doomed one: four, a single group (groups are
    // powers of two)
    let mut rows = Vec::new();
    for n in 0..3 {
        rows.push(
            w.prepare(&Actor::anonymous(), pure_flow(), json!({"n": n}))
                .await,
        );
    }
    let doomed = w
        .prepare(&Actor::anonymous(), pure_flow(), json!({"n": 9}))
        .await;
    let (doomed_id, twin) = (doomed.id.clone(), doomed.clone());
    rows.insert(2, doomed);
    let mut gate = w.db.write().await.unwrap();
    let started = queue(&engine, rows).await;
    // another run takes its id while it waits: it can no longer be inserted
    app::ops::runs::insert(&mut gate, twin).await.unwrap();
    gate.commit().await.unwrap();
    let mut ids = Vec::new();
    for (i, s) in started.into_iter().enumerate() {
        match (i, s.await.unwrap()) {
            (2, Err(e)) => assert!(!e.message.is_empty()),
            (2, Ok(_)) => panic!("the run of a workflow that went was started"),
            (_, Ok((id, ended))) => {
                assert_eq!(ended, Some(RunStatus::Succeeded));
                ids.push(id);
            }
            (_, Err(e)) => panic!("a run beside the doomed one failed: {e:?}"),
        }
    }
    for (n, id) in ids.iter().enumerate() {
        let left = left_behind(&w, id).await;
        assert_eq!(left["output"], json!({"n": (n as i64 + 1) * 10}), "{left}");
    }
    // the id is the other run's, as it inserted it: nothing carried
    let twin = app::ops::runs::get(&w.db, doomed_id.as_str())
        .await
        .unwrap();
    assert_eq!(twin.run.status, RunStatus::Running);
    assert!(
        twin.steps.iter().all(|s| s.attempt == 0),
        "{:?}",
        twin.steps
    );
    assert_eq!(
        engine.start_groups(),
        (0, 0),
        "the group was written run by run"
    );
    chain_is_whole(&w).await;
}

#[tokio::test]
async fn a_start_whose_request_went_away_takes_no_other_run_with_it() {
    let w = World::new().await;
    let engine = shared(&w);
    let mut rows = Vec::new();
    for n in 0..4 {
        rows.push(
            w.prepare(&Actor::anonymous(), pure_flow(), json!({"n": n}))
                .await,
        );
    }
    let gone_id = rows[0].id.clone();
    let gate = w.db.write().await.unwrap();
    let mut started = queue(&engine, rows).await;
    // the first start's request goes away while it waits (it may have
    // been leading the group)
    started.remove(0).abort();
    drop(gate);
    for s in started {
        let (_, ended) = s.await.unwrap().unwrap();
        assert_eq!(ended, Some(RunStatus::Succeeded));
    }
    // its run was queued before it went: written with the others
    let gone = app::ops::runs::get(&w.db, gone_id.as_str()).await.unwrap();
    assert_eq!(gone.run.status, RunStatus::Succeeded);
    assert_eq!(engine.start_groups(), (1, 4));
    chain_is_whole(&w).await;
}
