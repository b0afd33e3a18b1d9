use super::*;
use crate::domain::audit::Actor;
use crate::ops::runs::Via;
use serde_json::json;

/// A run of Start → End, its Start ready and its End pending.
async fn started() -> (crate::store::Db, tempfile::TempDir, RunId) {
    crate::store::test_started_run().await
}

async fn row(
    conn: &mut crate::store::conn::Conn,
    node: &str,
) -> (String, f64, i64, Option<i64>, Option<String>, Option<i64>) {
    crate::store::conn::query_as(
        "SELECT status, cum_in, attempt, started_at, output, finish_seq FROM steps WHERE node_id = $1",
    )
    .bind(node)
    .fetch_one(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_step_made_ready_and_finished_here_is_written_once_at_the_flush_as_both_would_leave_it() {
    let (db, _dir, run) = started().await;
    let mut tx = db.write().await.unwrap();
    let (mut w, states) = StepWrites::read(&mut tx, &run).await.unwrap();
    assert_eq!(w.due(1_000), vec!["start".to_string()]);
    assert_eq!(states.len(), 2);
    assert_eq!(w.position("start"), 0);

    let made = w.resolve("end", StepEvent::Activate, 0.9, 2_000).unwrap();
    let made = made.expect("a pending step becomes ready");
    assert_eq!((made.attempt, made.cum_in), (1, 0.9));
    assert!(
        w.resolve("end", StepEvent::Activate, 0.9, 2_000).is_none(),
        "a step changed here is not resolved again here"
    );
    assert!(
        w.resolve("elsewhere", StepEvent::Activate, 1.0, 2_000)
            .is_none()
    );

    let output = json!({"total": 3});
    let update = StepUpdate {
        port: Some("out"),
        output: Some(&output),
        confidence: Some(0.9),
        cum_confidence: Some(0.81),
        claim: Some((1, 2_000)),
        ..StepUpdate::new(StepEvent::Succeed, 2_100)
    };
    assert!(w.update("end", &update).unwrap());
    // a step this did not make ready is written by the caller at once
    assert!(!w.update("start", &update).unwrap());
    assert_eq!(row(&mut tx, "end").await.0, "pending", "kept, not written");
    // its result is known before the flush writes it (a run's end reads
    // it, and the flush goes with the run's end)
    let kept = w.result("end").expect("the result kept here");
    assert_eq!(kept.output, Some(output.clone()));
    assert_eq!(kept.cum_confidence, Some(0.81));
    assert!(w.result("start").is_none(), "not recorded here");

    w.flush(&mut tx).await.unwrap();
    let written = w.result("end").expect("the result written here");
    assert_eq!(
        (written.output, written.cum_confidence),
        (kept.output, kept.cum_confidence)
    );
    let (status, cum_in, attempt, started_at, out, seq) = row(&mut tx, "end").await;
    assert_eq!((status.as_str(), cum_in, attempt), ("succeeded", 0.9, 1));
    assert_eq!((started_at, seq), (Some(2_000), Some(1)));
    assert_eq!(out.as_deref(), Some(r#"{"total":3}"#));
    // nothing is left to write
    w.flush(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_kept_step_that_moved_meanwhile_fails_the_flush_and_a_move_its_status_forbids_fails_at_once()
 {
    let (db, _dir, run) = started().await;
    let mut tx = db.write().await.unwrap();
    let (mut w, _) = StepWrites::read(&mut tx, &run).await.unwrap();
    w.resolve("end", StepEvent::Activate, 1.0, 2_000)
        .unwrap()
        .unwrap();
    crate::store::conn::query("UPDATE steps SET status = 'cancelled' WHERE node_id = 'end'")
        .execute(&mut tx)
        .await
        .unwrap();
    let err = w.flush(&mut tx).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    drop(tx);

    let mut tx = db.write().await.unwrap();
    let (mut w, _) = StepWrites::read(&mut tx, &run).await.unwrap();
    assert_eq!(
        w.resolve("end", StepEvent::Skip, 1.0, 2_000)
            .unwrap()
            .map(|a| a.node),
        None,
        "a skipped step is not made ready"
    );
    let err = w
        .update("end", &StepUpdate::new(StepEvent::Succeed, 2_100))
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

/// Every column a result writes to a step.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Written {
    status: String,
    not_before: i64,
    parked: bool,
    port: Option<String>,
    output: Option<String>,
    confidence: Option<f64>,
    cum_confidence: Option<f64>,
    finished_at: Option<i64>,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    attempt: i64,
    started_at: Option<i64>,
    finish_seq: Option<i64>,
    cum_in: f64,
}

async fn written(conn: &mut crate::store::conn::Conn, run: &RunId) -> Written {
    crate::store::conn::query_as(
        "SELECT status, not_before, parked, port, output, confidence, cum_confidence,
                finished_at, lease_owner, lease_until, attempt, started_at, finish_seq, cum_in
         FROM steps WHERE run_id = $1 AND node_id = 'start'",
    )
    .bind(run)
    .fetch_one(&mut *conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_running_steps_result_kept_here_is_written_by_the_flush_as_update_step_writes_it() {
    let (db, _dir, kept_run) = started().await;
    let actor = Actor("t".into());
    let direct_run =
        crate::ops::runs::start(&db, &actor, "wf_1", None, &json!({}), Via::Api, 1_000)
            .await
            .unwrap();
    let mut tx = db.write().await.unwrap();
    for _ in 0..2 {
        let c = super::super::claim(&mut tx, "w1", 1_500, 9_000)
            .await
            .unwrap();
        assert_eq!(c.map(|c| c.attempt), Some(1));
    }
    let output = json!({"ok": true});
    let update = StepUpdate {
        port: Some("out"),
        output: Some(&output),
        confidence: Some(0.8),
        cum_confidence: Some(0.8),
        ..StepUpdate::new(StepEvent::Succeed, 2_000)
    };

    let (mut w, _) = StepWrites::read(&mut tx, &kept_run).await.unwrap();
    // the read answers whether the lease is still this worker's
    assert!(w.leased("start", 1, "w1"));
    assert!(!w.leased("start", 1, "w2") && !w.leased("start", 2, "w1"));
    assert!(
        !w.leased("end", 0, "w1"),
        "a pending step is leased to nobody"
    );
    assert!(!w.adopt("end"), "only a running step is adopted");
    assert!(w.adopt("start"));
    assert!(w.update("start", &update).unwrap());
    let kept = w.result("start").expect("known before the flush writes it");
    assert_eq!(kept.output, Some(output.clone()));
    w.flush(&mut tx).await.unwrap();
    let result = w.result("start").expect("written by the flush");
    assert_eq!(result.output, Some(output.clone()));
    assert_eq!(result.cum_confidence, Some(0.8));

    let seq = super::super::update_step(&mut tx, &direct_run, "start", &update)
        .await
        .unwrap();
    assert_eq!(seq, Some(1));
    assert_eq!(
        written(&mut tx, &kept_run).await,
        written(&mut tx, &direct_run).await
    );

    // the finish order goes on from the one read, without reading it again
    let (mut w, _) = StepWrites::read(&mut tx, &kept_run).await.unwrap();
    w.resolve("end", StepEvent::Activate, 0.8, 2_000).unwrap();
    let done = StepUpdate {
        claim: Some((1, 2_000)),
        ..StepUpdate::new(StepEvent::Succeed, 2_100)
    };
    assert!(w.update("end", &done).unwrap());
    w.flush(&mut tx).await.unwrap();
    let seq: Option<i64> = crate::store::conn::query_scalar(
        "SELECT finish_seq FROM steps WHERE run_id = $1 AND node_id = 'end'",
    )
    .bind(&kept_run)
    .fetch_one(&mut tx)
    .await
    .unwrap();
    assert_eq!(seq, Some(2));
    // a step written directly afterwards is read back, not answered
    w.note("end", StepStatus::Succeeded, Some(3));
    assert!(w.result("end").is_none());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_new_runs_ending_is_kept_for_the_flush_only_when_nothing_can_be_around_it() {
    let (db, _dir, run) = started().await;
    let mut tx = db.write().await.unwrap();
    let (_, steps) = crate::store::runs::with_steps(&mut tx, &run).await.unwrap();
    let finish = |w: &mut StepWrites| {
        w.note("start", StepStatus::Succeeded, None);
        w.note("end", StepStatus::Succeeded, None);
    };
    // read back rather than inserted here: what is around it is read
    let (mut read, _) = StepWrites::read(&mut tx, &run).await.unwrap();
    finish(&mut read);
    assert!(!read.ends_alone());
    // inserted here, but a parent or child runs are possible
    let (mut other, _) = StepWrites::inserted(&run, &steps, false);
    finish(&mut other);
    assert!(!other.ends_alone());

    let (mut w, _) = StepWrites::inserted(&run, &steps, true);
    assert!(!w.ends_alone(), "its steps are open");
    w.note("start", StepStatus::Succeeded, None);
    assert!(!w.ends_alone(), "its End is still pending");
    w.note("end", StepStatus::Succeeded, None);
    assert!(w.ends_alone());
    let end = crate::store::runs::RunEnd {
        status: crate::domain::run::RunStatus::Succeeded,
        output: Some(json!({"total": 3})),
        error: None,
        confidence: Some(0.5),
    };
    w.end_with(&end, 5_000);
    assert!(!w.ends_alone(), "a run ends once");
    let mut b = Batch::new();
    let f = w.queue_flush(tx.backend(), &mut b);
    let done = b.run(&mut tx).await.unwrap();
    w.flushed(&done, f).unwrap();
    let ended: (String, Option<String>, Option<f64>, Option<i64>) = crate::store::conn::query_as(
        "SELECT status, output, confidence, finished_at FROM runs WHERE id = $1",
    )
    .bind(&run)
    .fetch_one(&mut tx)
    .await
    .unwrap();
    assert_eq!(
        ended,
        (
            "succeeded".to_string(),
            Some(r#"{"total":3}"#.to_string()),
            Some(0.5),
            Some(5_000)
        )
    );
    // an ending whose run is no longer running fails the flush (its guard)
    w.end_with(&end, 6_000);
    let mut b = Batch::new();
    let f = w.queue_flush(tx.backend(), &mut b);
    if let Ok(done) = b.run(&mut tx).await {
        assert!(w.flushed(&done, f).is_err());
    }
}

/// Every column of a run's steps, in the order inserted, the run's id left
/// out (to compare two runs).
async fn step_rows(conn: &mut crate::store::conn::Conn, run: &RunId) -> Vec<String> {
    const COLUMNS: [&str; 22] = [
        "node_id",
        "status",
        "attempt",
        "not_before",
        "parked",
        "lease_owner",
        "lease_until",
        "port",
        "input_override",
        "output",
        "error_class",
        "error",
        "confidence",
        "cum_in",
        "cum_confidence",
        "started_at",
        "finished_at",
        "finish_seq",
        "lost",
        "pass",
        "lap",
        "pass_base",
    ];
    // one text a row, on either backend (NULL written out, not skipped)
    let each: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("COALESCE(CAST({c} AS TEXT), 'null')"))
        .collect();
    let sql = format!(
        "SELECT concat_ws('|', {}) FROM steps WHERE run_id = $1 ORDER BY rowid",
        each.join(", ")
    );
    let rows: Vec<(String,)> = crate::store::conn::query_as(&sql)
        .bind(run)
        .fetch_all(conn)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

/// The same changes to a new run's steps leave the same rows whether the
/// steps were inserted first and then updated by the flush, or inserted
/// once by the flush ([`StepWrites::inserting`]); a read at once after
/// `ensure_written` finds them.
#[tokio::test]
async fn a_new_runs_steps_inserted_once_by_the_flush_are_the_rows_insert_then_update_leaves() {
    let (db, _dir, _) = started().await;
    let actor = Actor("t".into());
    let mut runs = vec![];
    for once in [false, true] {
        let mut rows =
            crate::ops::runs::prepare(&db, &actor, "wf_1", None, &json!({}), Via::Api, 2_000)
                .await
                .unwrap();
        let steps = std::mem::take(&mut rows.steps);
        let id = rows.id.clone();
        if once {
            rows.leave_steps();
        }
        let mut tx = db.write().await.unwrap();
        crate::ops::runs::insert(&mut tx, rows).await.unwrap();
        let (mut w, _) = match once {
            true => StepWrites::inserting(&id, &steps, true),
            false => StepWrites::inserted(&id, &steps, true),
        };
        let start = w
            .take_ready("start")
            .expect("the Start is ready as inserted");
        let output = json!({"total": 3});
        let update = StepUpdate {
            port: Some("out"),
            output: Some(&output),
            confidence: Some(0.9),
            cum_confidence: Some(0.9),
            claim: Some((start.attempt, 2_500)),
            finished_at: Some(3_000),
            ..StepUpdate::new(StepEvent::Succeed, 3_000)
        };
        assert!(w.update("start", &update).unwrap());
        w.resolve("end", StepEvent::Activate, 0.9, 3_000).unwrap();
        if once {
            assert!(
                step_rows(&mut tx, &id).await.is_empty(),
                "nothing is written before the flush"
            );
        }
        w.ensure_written(&mut tx).await.unwrap();
        w.flush(&mut tx).await.unwrap();
        runs.push(step_rows(&mut tx, &id).await);
        tx.commit().await.unwrap();
    }
    assert_eq!(runs[0].len(), 2);
    assert_eq!(runs[0], runs[1]);
}
