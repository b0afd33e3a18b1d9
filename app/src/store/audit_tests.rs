use super::*;
use crate::store::test_db;

fn ev(n: i64) -> NewAuditEvent {
    NewAuditEvent {
        at: n,
        actor: "alice".into(),
        action: "workflow.created".into(),
        entity: format!("workflow:wf_{n}"),
        run_id: None,
        details: serde_json::json!({"n": n}),
    }
}

async fn appended(db: &crate::store::Db, n: i64, commit: bool) -> i64 {
    let mut tx = db.write().await.unwrap();
    let seq = append(&mut tx, &ev(n)).await.unwrap();
    match commit {
        true => tx.commit().await.unwrap(),
        false => tx.rollback().await.unwrap(),
    }
    seq
}

async fn intact(db: &crate::store::Db) -> i64 {
    let mut conn = db.acquire().await.unwrap();
    let report = verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None, "{:?}", report.reason);
    report.events
}

#[tokio::test]
async fn audit_events_chain_and_cannot_be_changed() {
    let (db, _dir) = test_db().await;
    let mut conn = db.acquire().await.unwrap();
    let s1 = append(&mut conn, &ev(1)).await.unwrap();
    let s2 = append(&mut conn, &ev(2)).await.unwrap();
    assert_eq!(s2, s1 + 1);
    let (prev2, hash1): (String, String) = (
        crate::store::conn::query_scalar("SELECT prev_hash FROM audit_events WHERE seq = $1")
            .bind(s2)
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        crate::store::conn::query_scalar("SELECT hash FROM audit_events WHERE seq = $1")
            .bind(s1)
            .fetch_one(&mut conn)
            .await
            .unwrap(),
    );
    assert_eq!(prev2, hash1, "each event links to the one before");
    assert_eq!(hash1, chain_hash("", &ev(1), r#"{"n":1}"#));
    for sql in [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
    ] {
        let err = crate::store::conn::query(sql)
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    let listed = list(&mut conn, Some("workflow:wf_2"), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].details["n"], 2);
}

#[tokio::test]
async fn the_chain_head_the_writers_remember_survives_rollbacks_drops_and_other_writers() {
    let (db, dir) = test_db().await;
    assert_eq!(appended(&db, 1, true).await, 1);
    assert_eq!(
        appended(&db, 2, true).await,
        2,
        "after the head it remembers"
    );
    // a rolled-back or dropped append is forgotten with its transaction
    assert_eq!(appended(&db, 3, false).await, 3);
    assert_eq!(appended(&db, 4, true).await, 3);
    {
        let mut tx = db.write().await.unwrap();
        assert_eq!(append(&mut tx, &ev(5)).await.unwrap(), 4);
        drop(tx);
    }
    assert_eq!(appended(&db, 6, true).await, 4);
    // another writer (on SQLite, another process on the same file)
    // appends behind this one's back: the remembered head no longer holds
    let url = match db.backend() {
        crate::store::conn::Backend::Sqlite => {
            format!("sqlite://{}", dir.path().join("test.db").display())
        }
        crate::store::conn::Backend::Postgres => return assert_eq!(intact(&db).await, 4),
    };
    let other = crate::store::Db::connect(&url, crate::store::Durability::Normal)
        .await
        .unwrap();
    assert_eq!(appended(&other, 7, true).await, 5);
    assert_eq!(appended(&db, 8, true).await, 6, "read again, not guessed");
    assert_eq!(appended(&other, 9, true).await, 7);
    assert_eq!(intact(&db).await, 7);
}

/// A run started inside a completion (a Sub-workflow's child, a For each's
/// item) queues its `run.started` in its own batch while the completion
/// keeps its events for its last batch: it must still come after them.
#[tokio::test]
async fn an_event_queued_in_a_batch_follows_the_events_its_transaction_keeps() {
    let (db, _dir) = test_db().await;
    // the chain's head is known from here on
    appended(&db, 1, true).await;
    let mut tx = db.write().await.unwrap();
    if let Some(g) = tx.gate() {
        g.defer_audit();
    }
    append(&mut tx, &ev(2)).await.unwrap();
    let third = ev(3);
    let mut b = crate::store::conn::Batch::new();
    let queued = queue(&mut tx, &mut b, &third);
    let done = b.run(&mut tx).await.unwrap();
    settle(&mut tx, &done, queued, &third).await.unwrap();
    tx.commit().await.unwrap();
    let order: Vec<i64> = crate::store::conn::query_scalar(
        "SELECT at FROM audit_events WHERE actor = 'alice' ORDER BY seq",
    )
    .fetch_all(&mut db.acquire().await.unwrap())
    .await
    .unwrap();
    assert_eq!(
        order,
        vec![1, 2, 3],
        "the events in the order they were appended"
    );
    assert_eq!(intact(&db).await, 3);
}

/// A completion's kept events go in its last batch, which ends with its
/// `COMMIT`. When another process appended since the head was known, the
/// first kept insert changes nothing: its guard stops the batch before
/// the `COMMIT`, and the events are appended after the head as read.
#[tokio::test]
async fn kept_events_whose_head_moved_stop_the_committing_batch_and_follow_the_new_head() {
    use crate::store::conn::{Batch, Finish, query};
    let (db, dir) = test_db().await;
    appended(&db, 1, true).await;
    let url = match db.backend() {
        crate::store::conn::Backend::Sqlite => {
            format!("sqlite://{}", dir.path().join("test.db").display())
        }
        // no kept events there (no write gate)
        crate::store::conn::Backend::Postgres => return,
    };
    let other = crate::store::Db::connect(&url, crate::store::Durability::Normal)
        .await
        .unwrap();
    for (moved, first) in [(false, 2), (true, 10)] {
        let mut tx = db.write().await.unwrap();
        if let Some(g) = tx.gate() {
            g.defer_audit();
        }
        append(&mut tx, &ev(first)).await.unwrap();
        append(&mut tx, &ev(first + 1)).await.unwrap();
        if moved {
            // nothing sent yet, so no lock held: the other process writes
            appended(&other, first + 2, true).await;
        }
        let mut b = Batch::new();
        let key = format!("write-{moved}");
        b.push(query("INSERT INTO instance_meta (key, value) VALUES ($1, 'v')").bind(key.clone()));
        let kept = queue_pending(&mut tx, &mut b);
        let first_kept = kept[0].0;
        match (b.commit(tx).await.unwrap(), moved) {
            (Finish::Committed(done), false) => assert_eq!(done.stopped(), None),
            (Finish::Open(mut tx, done), true) => {
                assert_eq!(done.stopped(), Some(first_kept));
                settle_pending(&mut tx, &done, kept).await.unwrap();
                tx.commit().await.unwrap();
            }
            (_, moved) => panic!("the batch committed: {}, the head moved: {moved}", !moved),
        }
        assert!(db.meta(&key).await.unwrap().is_some());
    }
    let order: Vec<i64> = crate::store::conn::query_scalar(
        "SELECT at FROM audit_events WHERE actor = 'alice' ORDER BY seq",
    )
    .fetch_all(&mut db.acquire().await.unwrap())
    .await
    .unwrap();
    assert_eq!(order, vec![1, 2, 3, 12, 10, 11]);
    assert_eq!(intact(&db).await, 6);
    // an event queued in a batch that commits (a run's start) is the head
    // the next writer knows, without reading it
    let mut tx = db.write().await.unwrap();
    let started = ev(20);
    let mut b = Batch::new();
    let queued = queue(&mut tx, &mut b, &started);
    assert!(queued.is_some(), "the head was known");
    assert!(matches!(b.commit(tx).await.unwrap(), Finish::Committed(_)));
    let mut tx = db.write().await.unwrap();
    let head = tx.gate().and_then(|g| g.audit_head()).map(|(seq, _)| seq);
    assert_eq!(head, Some(7));
    append(&mut tx, &ev(21)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(intact(&db).await, 8);
}
