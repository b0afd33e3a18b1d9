use super::*;
use crate::domain::audit::Actor;
use crate::domain::graph::WorkflowDef;
use crate::ops::runs::Via;
use serde_json::json;

/// A run of Start → End, its Start ready and its End pending.
async fn started() -> (crate::store::Db, tempfile::TempDir, RunId) {
    let (db, dir) = crate::store::test_db().await;
    let mut conn = db.acquire().await.unwrap();
    crate::store::workflows::insert(&mut conn, "wf_1", "W", &WorkflowDef::minimal(), 0, "a", 1)
        .await
        .unwrap();
    drop(conn);
    let actor = Actor("t".into());
    let run = crate::ops::runs::start(&db, &actor, "wf_1", None, &json!({}), Via::Api, 1_000)
        .await
        .unwrap();
    (db, dir, run)
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

    w.flush(&mut tx).await.unwrap();
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
