//! SQLite's WAL checkpoints, run beside the writers instead of by them.
//!
//! By default the connection whose commit fills the WAL past 1,000 pages
//! copies it into the database file, `fsync` included, before its commit
//! returns: with one writer connection kept by the write gate, that was
//! every writer's wait (about 5 % of the SQLite thread's busy time, and
//! a stall of the whole gate each time). Once [`Db::checkpoint`] has been
//! called, the writer connection checkpoints no more, and whoever called
//! it keeps calling it (the server: every 100 ms while anything was
//! written) on a pooled connection, outside the gate. A passive
//! checkpoint waits for no reader and no writer; the WAL starts again
//! from its beginning once one has copied all of it.

use super::Result;
use super::db::{Db, Pool};
use std::sync::atomic::Ordering;

/// What a checkpoint found and did, in WAL pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checkpointed {
    /// Pages the WAL holds.
    pub wal: i64,
    /// Of those, pages now in the database file.
    pub copied: i64,
}

impl Db {
    /// Copies what the WAL holds into the database file (a passive
    /// checkpoint), outside the write gate. From the first call on, the
    /// writer connection's commits no longer checkpoint. Nothing on
    /// PostgreSQL (None).
    pub async fn checkpoint(&self) -> Result<Option<Checkpointed>> {
        let Pool::Sqlite(p) = &self.pool else {
            return Ok(None);
        };
        if !self.apart.swap(true, Ordering::Relaxed) {
            // the writer connection (taken now if need be) stops
            // checkpointing as the gate is taken
            drop(self.writer_gate(p).await?);
        }
        let (_, wal, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *p.acquire().await?)
            .await?;
        Ok(Some(Checkpointed { wal, copied }))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::conn::query;

    #[tokio::test]
    async fn once_checkpoints_run_apart_commits_leave_the_wal_to_them_and_they_copy_all_of_it() {
        let (db, _dir) = crate::store::test_db().await;
        if db.checkpoint().await.unwrap().is_none() {
            return; // PostgreSQL
        }
        // 1,500 pages of writes, each its own transaction: past the 1,000
        // at which a commit would checkpoint by itself
        let page = "x".repeat(4000);
        for i in 0..1_500 {
            let mut tx = db.write().await.unwrap();
            query("INSERT INTO instance_meta (key, value) VALUES ($1, $2)")
                .bind(format!("k{i}"))
                .bind(page.as_str())
                .execute(&mut tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let done = db.checkpoint().await.unwrap().unwrap();
        assert!(
            done.wal >= 1_500,
            "no commit checkpointed: the WAL holds every write ({done:?})"
        );
        assert_eq!(done.copied, done.wal, "the checkpoint copied all of it");
        assert_eq!(
            db.meta("k1499").await.unwrap().as_deref(),
            Some(page.as_str())
        );
    }
}
