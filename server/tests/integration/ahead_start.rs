//! A REST start is prepared for the version this process last read
//! (`Engine::start_new`); on SQLite its own transaction confirms that
//! version instead of a read before it. When another version is named by
//! then (a save or publish came between, here or in another process), or
//! the workflow is gone, nothing is written from the stale guess: the
//! start runs what is named now, or answers as a start without a guess.

use crate::common::world::*;
use app::domain::audit::Actor;
use app::domain::run::RunStatus;
use app::error::ErrorCode;
use app::ops::runs::Via;
use app::store::workflows::Pick;
use serde_json::json;
use server::engine::Engine;
use std::sync::Arc;
use std::time::Duration;

/// Start -> End whose output names `version`.
fn saying(version: &str) -> app::domain::WorkflowDef {
    def(
        vec![start(), end("end", Some(&format!("{{v: \"{version}\"}}")))],
        vec![("start", "out", "end")],
    )
}

struct Ahead {
    w: World,
    engine: Arc<Engine>,
    wf: String,
}

impl Ahead {
    /// A workflow whose version 1 says "one", started once so that this
    /// process remembers version 1 for `pick`.
    async fn new(pick: Pick) -> Ahead {
        let w = World::new().await;
        let engine =
            Arc::new(crate::common::engine(w.db.clone(), w.clock.clone(), 30_000).without_jitter());
        let wf = app::ops::workflows::create(
            &w.db,
            &Actor::anonymous(),
            "ahead",
            &saying("one"),
            false,
            T0,
        )
        .await
        .unwrap()
        .workflow_id;
        let a = Ahead { w, engine, wf };
        if pick == Pick::Published {
            a.publish(1).await;
        }
        let first = a.start(pick).await.unwrap();
        assert_eq!(first.ended, Some(RunStatus::Succeeded));
        assert_eq!(a.w.run(first.id.as_str()).await.run.version, 1);
        a
    }

    async fn start(&self, pick: Pick) -> Result<server::engine::StartedRun, app::error::AppError> {
        self.engine
            .start_new(
                &Actor::anonymous(),
                &self.wf,
                pick,
                &json!({}),
                Via::Api,
                (self.w.clock.now_ms(), true),
            )
            .await
    }

    /// Saves version 2, which says "two".
    async fn save_two(&self) {
        let saved = app::ops::workflows::save_version(
            &self.w.db,
            &Actor::anonymous(),
            &self.wf,
            &saying("two"),
            false,
            T0,
        )
        .await
        .unwrap();
        assert_eq!(saved.version, 2);
    }

    /// Publishes `version` as another process would: in the database
    /// only, nothing this process remembers is told.
    async fn publish(&self, version: i64) {
        let mut tx = self.w.db.write().await.unwrap();
        app::store::conn::query("UPDATE workflows SET published_version = $1 WHERE id = $2")
            .bind(version)
            .bind(self.wf.as_str())
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// How many runs of the workflow were written, by version.
    async fn runs_by_version(&self) -> Vec<(i64, i64)> {
        let mut conn = self.w.db.acquire().await.unwrap();
        app::store::conn::query_as(
            "SELECT version, COUNT(*) FROM runs WHERE workflow_id = $1 GROUP BY version ORDER BY version",
        )
        .bind(self.wf.as_str())
        .fetch_all(&mut conn)
        .await
        .unwrap()
    }

    async fn chain_is_whole(&self) {
        let mut conn = self.w.db.acquire().await.unwrap();
        let report = app::store::audit::verify(&mut conn, None).await.unwrap();
        assert_eq!(report.broken_at, None);
    }
}

#[tokio::test]
async fn a_start_prepared_for_the_latest_version_runs_a_version_saved_since() {
    let a = Ahead::new(Pick::Latest).await;
    a.save_two().await;
    let started = a.start(Pick::Latest).await.unwrap();
    assert_eq!(started.ended, Some(RunStatus::Succeeded));
    let run = a.w.run(started.id.as_str()).await.run;
    assert_eq!((run.version, run.output), (2, Some(json!({"v": "two"}))));
    assert_eq!(
        a.runs_by_version().await,
        [(1, 1), (2, 1)],
        "nothing written from the stale guess"
    );
    // and the version read is remembered for the next start
    let next = a.start(Pick::Latest).await.unwrap();
    assert_eq!(a.w.run(next.id.as_str()).await.run.version, 2);
    a.chain_is_whole().await;
}

#[tokio::test]
async fn a_start_prepared_for_the_published_version_runs_one_another_process_published() {
    let a = Ahead::new(Pick::Published).await;
    a.save_two().await;
    // saved, not published: version 1 still runs, from the guess
    let one = a.start(Pick::Published).await.unwrap();
    assert_eq!(a.w.run(one.id.as_str()).await.run.version, 1);
    a.publish(2).await;
    let two = a.start(Pick::Published).await.unwrap();
    let run = a.w.run(two.id.as_str()).await.run;
    assert_eq!((run.version, run.output), (2, Some(json!({"v": "two"}))));
    assert_eq!(a.runs_by_version().await, [(1, 2), (2, 1)]);
    a.chain_is_whole().await;
}

/// Starts `n` runs of `pick` that wait for the gate the test holds, then
/// lets them share transactions; each must succeed, and the versions they
/// ran are returned.
async fn started_together(a: &Ahead, n: usize) -> Vec<i64> {
    let gate = a.w.db.write().await.unwrap();
    let starts: Vec<_> = (0..n)
        .map(|_| {
            let (engine, wf, now) = (a.engine.clone(), a.wf.clone(), a.w.clock.now_ms());
            tokio::spawn(async move {
                engine
                    .start_new(
                        &Actor::anonymous(),
                        &wf,
                        Pick::Latest,
                        &json!({}),
                        Via::Api,
                        (now, false),
                    )
                    .await
            })
        })
        .collect();
    for _ in 0..2_000 {
        if a.engine.starts_waiting() == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(a.engine.starts_waiting(), n, "the starts wait for the gate");
    drop(gate);
    let mut versions = Vec::new();
    for s in starts {
        let started = s.await.unwrap().unwrap();
        assert_eq!(started.ended, Some(RunStatus::Succeeded));
        versions.push(a.w.run(started.id.as_str()).await.run.version);
    }
    versions
}

#[tokio::test]
async fn starts_of_a_stale_version_that_share_a_transaction_each_run_the_version_named_now() {
    let a = Ahead::new(Pick::Latest).await;
    a.save_two().await;
    assert_eq!(started_together(&a, 5).await, [2; 5]);
    assert_eq!(a.runs_by_version().await, [(1, 1), (2, 5)]);
    // the version they confirm once for all goes on confirmed
    let (groups, _) = a.engine.start_groups();
    assert_eq!(started_together(&a, 4).await, [2; 4]);
    assert_eq!(
        a.engine.start_groups().0,
        groups + 1,
        "the four shared one transaction"
    );
    assert_eq!(a.runs_by_version().await, [(1, 1), (2, 9)]);
    a.chain_is_whole().await;
}

#[tokio::test]
async fn a_start_prepared_for_a_workflow_deleted_since_is_not_found_and_writes_nothing() {
    let a = Ahead::new(Pick::Latest).await;
    app::ops::workflows::delete(&a.w.db, &Actor::anonymous(), &a.wf, T0)
        .await
        .unwrap();
    let e = a.start(Pick::Latest).await.err().expect("refused");
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");
    assert_eq!(a.runs_by_version().await, [(1, 1)]);
    a.chain_is_whole().await;
}
