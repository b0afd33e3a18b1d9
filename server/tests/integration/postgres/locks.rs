//! The write locks on PostgreSQL (`app::store::db`): transactions of
//! different runs proceed side by side, those of one run take turns, a
//! whole-database write excludes them all, a claim passes over a run being
//! written, and concurrent audit appends still make one chain.

use app::store::Db;
use std::time::Duration;

async fn pg() -> Db {
    let db = Db::connect(&super::fresh_database().await, Default::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db
}

/// A new run of Start → End (its Start step due).
async fn start(db: &Db) -> app::domain::ids::RunId {
    use crate::common::world::{def, end, start};
    let actor = app::domain::audit::Actor::anonymous();
    let wf = app::ops::workflows::create(
        db,
        &actor,
        &format!("wf {}", fastrand::u64(..)),
        &def(
            vec![start(), end("end", None)],
            vec![("start", "out", "end")],
        ),
        false,
        1,
    )
    .await
    .unwrap();
    app::ops::runs::start(
        db,
        &actor,
        &wf.workflow_id,
        None,
        &serde_json::json!({}),
        app::ops::runs::Via::Api,
        1,
    )
    .await
    .unwrap()
}

/// Whether `f` finishes within half a second (it waits on a lock if not).
async fn goes_through<T>(f: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::time::timeout(Duration::from_millis(500), f)
        .await
        .ok()
}

#[tokio::test]
async fn two_runs_write_side_by_side_one_run_takes_turns_and_a_whole_database_write_waits() {
    let db = pg().await;
    let a = db.write_run(Some("run_a")).await.unwrap();
    // another run: at once
    let b = goes_through(db.write_run(Some("run_b"))).await;
    assert!(b.is_some(), "another run's transaction waited");
    // new runs only: at once
    let fresh = goes_through(db.write_run(None)).await;
    assert!(fresh.is_some(), "a transaction starting runs waited");
    drop((b, fresh));
    // the same run, or the whole database: not while `a` is open
    let same = tokio::spawn({
        let db = db.clone();
        async move { db.write_run(Some("run_a")).await.unwrap().commit().await }
    });
    let whole = tokio::spawn({
        let db = db.clone();
        async move { db.write().await.unwrap().commit().await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !same.is_finished(),
        "the same run's transaction went through"
    );
    assert!(!whole.is_finished(), "a whole-database write went through");
    a.commit().await.unwrap();
    assert!(goes_through(same).await.is_some());
    assert!(goes_through(whole).await.is_some());
    // and while a whole-database write is open, no run writes
    let w = db.write().await.unwrap();
    assert!(goes_through(db.write_run(Some("run_c"))).await.is_none());
    w.rollback().await.unwrap();
}

#[tokio::test]
async fn an_id_that_is_not_plainly_one_locks_the_whole_database() {
    let db = pg().await;
    let odd = db
        .write_run(Some("run_a'); DROP TABLE runs; --"))
        .await
        .unwrap();
    assert!(goes_through(db.write_run(Some("run_b"))).await.is_none());
    odd.rollback().await.unwrap();
    let n: i64 = app::store::conn::query_scalar("SELECT COUNT(*) FROM runs")
        .fetch_one(&mut db.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_claim_passes_over_a_run_another_transaction_is_writing() {
    let db = pg().await;
    let first = start(&db).await;
    let second = start(&db).await;
    // the first run is being written: the claim takes the second's step
    let held = db.write_run(Some(first.as_str())).await.unwrap();
    let mut tx = db.write_run(None).await.unwrap();
    let c = app::store::runs::claim(&mut tx, "w1", i64::MAX / 4, i64::MAX / 2)
        .await
        .unwrap()
        .expect("a step is due");
    assert_eq!(c.run_id.as_str(), second.as_str());
    tx.commit().await.unwrap();
    held.commit().await.unwrap();
    // once it is not, its step is claimed
    let mut tx = db.write_run(None).await.unwrap();
    let c = app::store::runs::claim(&mut tx, "w1", i64::MAX / 4, i64::MAX / 2)
        .await
        .unwrap()
        .expect("a step is due");
    assert_eq!(c.run_id.as_str(), first.as_str());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn audit_appends_from_many_runs_at_once_make_one_chain_that_verifies() {
    let db = pg().await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let run = format!("run_{t}");
                let mut tx = db.write_run(Some(&run)).await.unwrap();
                let ev = app::domain::audit::NewAuditEvent::run(
                    i,
                    "test",
                    "run.step",
                    &run,
                    serde_json::json!({"i": i}),
                );
                app::store::audit::append(&mut tx, &ev).await.unwrap();
                // some end without committing: they leave no gap
                if i % 5 == 4 {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut conn = db.acquire().await.unwrap();
    let report = app::store::audit::verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None, "{report:?}");
    assert_eq!(report.events, 8 * 20);
}
