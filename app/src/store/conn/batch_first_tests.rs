//! Statements a SQLite write transaction keeps to go first
//! (`WriteGate::send_first`): they travel with its `BEGIN` in the message
//! of its first statements, or at its commit when nothing else is sent,
//! and are lost with the transaction when it is dropped. SQLite's alone:
//! on PostgreSQL there is no write gate and nothing is kept.

use super::Batch;
use crate::store::conn::{Conn, Query, query, query_scalar};
use crate::store::{Db, test_db};

fn put(key: &str) -> Query<'static> {
    query("INSERT INTO instance_meta (key, value) VALUES ($1, 'v')").bind(key.to_string())
}

async fn committed(db: &Db, key: &str) -> Option<String> {
    db.meta(key).await.unwrap()
}

/// A write transaction keeping `keys`' inserts to go first; None on
/// PostgreSQL.
async fn keeping(db: &Db, keys: &[&str]) -> Option<Conn> {
    let mut tx = db.write().await.unwrap();
    tx.gate()?.send_first(keys.iter().map(|k| put(k)).collect());
    Some(tx)
}

#[tokio::test]
async fn kept_statements_go_before_the_first_batch_whose_results_keep_their_places() {
    let (db, _dir) = test_db().await;
    let Some(mut tx) = keeping(&db, &["f-1", "f-2"]).await else {
        return;
    };
    assert!(tx.gate().unwrap().has_sent_nothing());
    let mut b = Batch::new();
    let counted = b.push(query(
        "SELECT COUNT(*) FROM instance_meta WHERE key LIKE 'f-%'",
    ));
    let done = b.run(&mut tx).await.unwrap();
    // the batch's own statement saw both rows, at the index push gave it
    assert_eq!(done.scalar::<i64>(counted).unwrap(), Some(2));
    assert!(!tx.gate().unwrap().has_sent_nothing());
    tx.commit().await.unwrap();
    assert!(committed(&db, "f-1").await.is_some());
    assert!(committed(&db, "f-2").await.is_some());
}

#[tokio::test]
async fn a_statement_sent_alone_takes_the_kept_ones_with_it() {
    let (db, _dir) = test_db().await;
    let Some(mut tx) = keeping(&db, &["a-1"]).await else {
        return;
    };
    let n: i64 = query_scalar("SELECT COUNT(*) FROM instance_meta WHERE key = 'a-1'")
        .fetch_one(&mut tx)
        .await
        .unwrap();
    assert_eq!(n, 1);
    tx.commit().await.unwrap();
    assert!(committed(&db, "a-1").await.is_some());
}

#[tokio::test]
async fn kept_statements_are_written_at_a_commit_that_sends_nothing_else() {
    let (db, _dir) = test_db().await;
    let Some(tx) = keeping(&db, &["c-1"]).await else {
        return;
    };
    tx.commit().await.unwrap();
    assert!(committed(&db, "c-1").await.is_some());
}

#[tokio::test]
async fn kept_statements_are_lost_with_a_dropped_or_failed_transaction() {
    let (db, _dir) = test_db().await;
    let Some(tx) = keeping(&db, &["d-1"]).await else {
        return;
    };
    drop(tx);
    assert_eq!(committed(&db, "d-1").await, None);
    // a kept statement that fails fails the batch it went with: the
    // transaction commits nothing of it
    let mut seed = db.write().await.unwrap();
    put("d-2").execute(&mut seed).await.unwrap();
    seed.commit().await.unwrap();
    let mut tx = keeping(&db, &["d-3", "d-2"]).await.unwrap();
    assert!(Batch::of(put("d-4")).run(&mut tx).await.is_err());
    drop(tx);
    assert_eq!(committed(&db, "d-3").await, None);
    assert_eq!(committed(&db, "d-4").await, None);
    // and the next writer goes on as usual
    let mut tx = db.write().await.unwrap();
    put("d-5").execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(committed(&db, "d-5").await.is_some());
}
