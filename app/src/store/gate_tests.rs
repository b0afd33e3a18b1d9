//! Write transactions as their callers see them, on either backend: one
//! dropped or failed leaves nothing behind and the next writer goes on; one
//! that writes nothing commits; closing the database ends.

use crate::store::conn::query;
use crate::store::{Db, test_db};
use std::time::Duration;

async fn put(conn: &mut crate::store::conn::Conn, key: &str) {
    query("INSERT INTO instance_meta (key, value) VALUES ($1, 'v')")
        .bind(key)
        .execute(conn)
        .await
        .unwrap();
}

/// `key`'s value as `conn` sees it (its own transaction's writes included).
async fn value_in(conn: &mut crate::store::conn::Conn, key: &str) -> Option<String> {
    crate::store::conn::query_scalar("SELECT value FROM instance_meta WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
        .unwrap()
}

async fn has(db: &Db, key: &str) -> bool {
    db.meta(key).await.unwrap().is_some()
}

#[tokio::test]
async fn a_dropped_write_transaction_leaves_nothing_and_the_writer_waiting_behind_it_commits() {
    let (db, _dir) = test_db().await;
    let mut first = db.write().await.unwrap();
    put(&mut first, "dropped").await;
    // a second writer queues behind the open transaction
    let next = tokio::spawn({
        let db = db.clone();
        async move {
            let mut tx = db.write().await.unwrap();
            let saw = value_in(&mut tx, "dropped").await;
            put(&mut tx, "next").await;
            tx.commit().await.unwrap();
            saw
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !next.is_finished(),
        "the second writer waited for the first"
    );
    drop(first);
    let saw = tokio::time::timeout(Duration::from_secs(30), next)
        .await
        .expect("the second writer went on once the first was dropped")
        .unwrap();
    assert_eq!(saw, None, "the dropped transaction's row was never seen");
    assert!(!has(&db, "dropped").await);
    assert!(has(&db, "next").await);
}

#[tokio::test]
async fn a_failed_statement_then_a_rollback_or_a_drop_leave_the_next_write_working() {
    let (db, _dir) = test_db().await;
    for end_by_drop in [false, true] {
        let mut tx = db.write().await.unwrap();
        put(&mut tx, "before the error").await;
        // the same key again: the primary key refuses it
        let refused =
            query("INSERT INTO instance_meta (key, value) VALUES ('before the error', 'w')")
                .execute(&mut tx)
                .await;
        assert!(refused.is_err());
        match end_by_drop {
            true => drop(tx),
            false => tx.rollback().await.unwrap(),
        }
        assert!(!has(&db, "before the error").await);
        let mut tx = db.write().await.unwrap();
        put(&mut tx, "after").await;
        tx.commit().await.unwrap();
        assert!(has(&db, "after").await);
        let mut tx = db.write().await.unwrap();
        query("DELETE FROM instance_meta WHERE key = 'after'")
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn a_write_transaction_that_writes_nothing_commits_or_rolls_back() {
    let (db, _dir) = test_db().await;
    db.write().await.unwrap().commit().await.unwrap();
    db.write().await.unwrap().rollback().await.unwrap();
    drop(db.write().await.unwrap());
    let mut tx = db.write().await.unwrap();
    put(&mut tx, "k").await;
    tx.commit().await.unwrap();
    assert!(has(&db, "k").await);
}

#[tokio::test]
async fn the_first_statement_of_a_write_transaction_may_read_and_its_writes_stay_atomic() {
    let (db, _dir) = test_db().await;
    let mut tx = db.write().await.unwrap();
    let none = value_in(&mut tx, "a").await;
    assert_eq!(none, None);
    put(&mut tx, "a").await;
    put(&mut tx, "b").await;
    // not committed: another connection sees neither
    assert!(!has(&db, "a").await && !has(&db, "b").await);
    tx.rollback().await.unwrap();
    assert!(!has(&db, "a").await && !has(&db, "b").await);
    // a write's count is its own, not the BEGIN's that went with it
    let mut tx = db.write().await.unwrap();
    let done = query("INSERT INTO instance_meta (key, value) VALUES ('c', 'v'), ('d', 'v')")
        .execute(&mut tx)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 2);
    tx.commit().await.unwrap();
    assert!(has(&db, "c").await && has(&db, "d").await);
}

#[tokio::test]
async fn closing_the_database_ends_after_writes() {
    let (db, _dir) = test_db().await;
    let mut tx = db.write().await.unwrap();
    put(&mut tx, "k").await;
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), db.close())
        .await
        .expect("close waits for no connection forever");
}

#[tokio::test]
async fn sqlite_writes_keep_one_connection_across_transactions_a_dropped_ones_included() {
    let (db, _dir) = test_db().await;
    if db.backend() != crate::store::conn::Backend::Sqlite {
        return; // PostgreSQL's writes take pooled connections
    }
    // a temporary table exists on the connection that made it only
    let mut tx = db.write().await.unwrap();
    query("CREATE TEMP TABLE writer_mark (x INTEGER)")
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.write().await.unwrap();
    put(&mut tx, "dropped").await;
    drop(tx);
    let mut claim = db.write_each().await.unwrap();
    query("INSERT INTO writer_mark (x) VALUES (1)")
        .execute(&mut claim)
        .await
        .expect("a one-statement write runs on the writer connection");
    drop(claim);
    let mut tx = db.write().await.unwrap();
    let marks = crate::store::conn::query_scalar::<i64>("SELECT COUNT(*) FROM writer_mark")
        .fetch_one(&mut tx)
        .await
        .expect("the connection is the one that made the table");
    assert_eq!(marks, 1);
    tx.commit().await.unwrap();
    assert!(!has(&db, "dropped").await);
}
