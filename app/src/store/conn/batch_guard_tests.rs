//! Guarded statements and a batch that commits, on either backend: a
//! guard that fails stops the batch before anything after it (its
//! `COMMIT` included) runs, and leaves the transaction open.

use super::{Batch, Finish};
use crate::store::conn::{Conn, Query, query, query_scalar};
use crate::store::{Db, test_db};

fn put(key: &str) -> Query<'static> {
    query("INSERT INTO instance_meta (key, value) VALUES ($1, 'v')").bind(key.to_string())
}

/// Sets `key`'s value where it is `from`: one row changed, or none.
fn set(key: &str, from: &str) -> Query<'static> {
    query("UPDATE instance_meta SET value = 'w' WHERE key = $1 AND value = $2")
        .bind(key.to_string())
        .bind(from.to_string())
}

async fn value_in(conn: &mut Conn, key: &str) -> Option<String> {
    query_scalar("SELECT value FROM instance_meta WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
        .unwrap()
}

async fn committed(db: &Db, key: &str) -> Option<String> {
    db.meta(key).await.unwrap()
}

#[tokio::test]
async fn a_batch_whose_guards_hold_commits_everything_in_it() {
    let (db, _dir) = test_db().await;
    let mut tx = db.write().await.unwrap();
    put("g-seed").execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    // on the SQLite writer: BEGIN, statements, guards and COMMIT in one
    let tx = db.write().await.unwrap();
    let mut b = Batch::new();
    let changed = b.push_guarded(set("g-seed", "v"), 1);
    b.push(put("g-new"));
    let Finish::Committed(done) = b.commit(tx).await.unwrap() else {
        panic!("no guard failed, so the batch committed");
    };
    assert_eq!(done.stopped(), None);
    assert_eq!(done.affected(changed).unwrap(), 1);
    assert_eq!(committed(&db, "g-seed").await.as_deref(), Some("w"));
    assert_eq!(committed(&db, "g-new").await.as_deref(), Some("v"));
    // the next write transaction opens and commits as usual
    let mut tx = db.write().await.unwrap();
    put("g-after").execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(committed(&db, "g-after").await.is_some());
}

#[tokio::test]
async fn a_failed_guard_stops_the_batch_before_its_commit_and_leaves_the_transaction_open() {
    let (db, _dir) = test_db().await;
    for finish in ["commit", "drop"] {
        let seed = format!("s-{finish}");
        let mut tx = db.write().await.unwrap();
        put(&seed).execute(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let tx = db.write().await.unwrap();
        let mut b = Batch::new();
        let before = b.push(put(&format!("before-{finish}")));
        // the value is 'v', not 'x': no row changes, and the guard fails
        let guarded = b.push_guarded(set(&seed, "x"), 1);
        b.push(put(&format!("after-{finish}")));
        let Finish::Open(mut tx, done) = b.commit(tx).await.unwrap() else {
            panic!("the guard failed, so the batch did not commit");
        };
        assert_eq!(done.stopped(), Some(guarded));
        assert_eq!(done.affected(before).unwrap(), 1);
        assert_eq!(done.affected(guarded).unwrap(), 0);
        assert!(
            done.affected(guarded + 1).is_err(),
            "nothing after the failed guard ran"
        );
        // nothing is committed yet; the transaction sees its own write
        assert_eq!(committed(&db, &format!("before-{finish}")).await, None);
        let before_key = format!("before-{finish}");
        assert_eq!(value_in(&mut tx, &before_key).await.as_deref(), Some("v"));
        assert_eq!(value_in(&mut tx, &format!("after-{finish}")).await, None);
        match finish {
            "commit" => {
                // the caller mends and commits
                put(&format!("mended-{finish}"))
                    .execute(&mut tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                assert!(committed(&db, &before_key).await.is_some());
                assert!(committed(&db, &format!("mended-{finish}")).await.is_some());
            }
            _ => {
                drop(tx);
                // rolled back: nothing of it stays, and the next writer goes on
                let mut next = db.write().await.unwrap();
                assert_eq!(value_in(&mut next, &before_key).await, None);
                put(&format!("next-{finish}"))
                    .execute(&mut next)
                    .await
                    .unwrap();
                next.commit().await.unwrap();
                assert!(committed(&db, &format!("next-{finish}")).await.is_some());
            }
        }
        assert_eq!(committed(&db, &format!("after-{finish}")).await, None);
    }
}

#[tokio::test]
async fn a_failing_statement_in_a_committing_batch_commits_nothing() {
    let (db, _dir) = test_db().await;
    let tx = db.write().await.unwrap();
    let mut b = Batch::new();
    b.push(put("f-first"));
    // the same key again: the primary key refuses it
    b.push(put("f-first"));
    assert!(b.commit(tx).await.is_err());
    assert_eq!(committed(&db, "f-first").await, None);
    let mut tx = db.write().await.unwrap();
    put("f-next").execute(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(committed(&db, "f-next").await.is_some());
}

#[tokio::test]
async fn a_guard_counts_the_rows_of_the_statement_just_before_it() {
    let (db, _dir) = test_db().await;
    let mut tx = db.write().await.unwrap();
    for k in ["c-1", "c-2", "c-3"] {
        put(k).execute(&mut tx).await.unwrap();
    }
    // three rows changed by the first, none by the second: each guard
    // holds for its own statement only
    let mut b = Batch::new();
    let three = b.push_guarded(
        query("UPDATE instance_meta SET value = 'w' WHERE key LIKE 'c-%'"),
        3,
    );
    let none = b.push_guarded(set("c-1", "v"), 0);
    let done = b.run(&mut tx).await.unwrap();
    assert_eq!(done.stopped(), None);
    assert_eq!(done.affected(three).unwrap(), 3);
    assert_eq!(done.affected(none).unwrap(), 0);
    // three expected where two change: it stops
    let mut b = Batch::new();
    let two = b.push_guarded(
        query("UPDATE instance_meta SET value = 'z' WHERE key IN ('c-1', 'c-2')"),
        3,
    );
    let done = b.run(&mut tx).await.unwrap();
    assert_eq!(done.stopped(), Some(two));
    tx.commit().await.unwrap();
    assert_eq!(committed(&db, "c-1").await.as_deref(), Some("z"));
}
