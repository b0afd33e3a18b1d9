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

/// WAL pages (32 MiB) from which a checkpoint also starts the WAL again
/// (see [`Db::checkpoint`]). Copying with the gate held waits for two
/// `fsync`s; at SQLite's own 1,000 pages that came every 100 ms under
/// `latency-3-sync`, about once in 80 starts, and showed in its p99.
const RESTART_AT: i64 = 8_192;

impl Db {
    /// Copies what the WAL holds into the database file (a passive
    /// checkpoint), outside the write gate. From the first call on, the
    /// writer connection's commits no longer checkpoint. Nothing on
    /// PostgreSQL (None).
    ///
    /// A passive checkpoint copies the WAL as it was when it began, and
    /// SQLite writes the WAL from its beginning again only when a write
    /// transaction begins with all of it copied. Under a steady stream of
    /// commits one always lands while the checkpoint runs, so the WAL
    /// never started again and grew by every page written (580 MB in six
    /// seconds of `latency-3-sync`), each commit appending to the file and
    /// each read searching an ever longer WAL index. So once it holds
    /// [`RESTART_AT`] pages, the pages committed meanwhile are copied too,
    /// with the write gate held (a few pages: the bulk was copied without
    /// it); the next commit then writes the WAL from its beginning.
    pub async fn checkpoint(&self) -> Result<Option<Checkpointed>> {
        self.checkpoint_restarting(RESTART_AT).await
    }

    /// [`Db::checkpoint`], starting the WAL again from `restart_at` pages.
    pub async fn checkpoint_restarting(&self, restart_at: i64) -> Result<Option<Checkpointed>> {
        let Pool::Sqlite(p) = &self.pool else {
            return Ok(None);
        };
        if !self.apart.swap(true, Ordering::Relaxed) {
            // the writer connection (taken now if need be) stops
            // checkpointing as the gate is taken
            drop(self.writer_gate(p).await?);
        }
        let mut done = passive(&mut *p.acquire().await?).await?;
        if done.wal >= restart_at {
            // nothing is committed while the gate is held: what the WAL
            // holds now is all it will hold until the next commit
            let mut gate = self.writer_gate(p).await?;
            done = passive(gate.writer()).await?;
        }
        Ok(Some(done))
    }
}

/// A passive checkpoint on `conn`.
async fn passive(conn: &mut sqlx::SqliteConnection) -> Result<Checkpointed> {
    let (_, wal, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(conn)
        .await?;
    Ok(Checkpointed { wal, copied })
}

#[cfg(test)]
mod tests {
    use super::Db;
    use crate::store::conn::query;
    use std::sync::atomic::Ordering;

    /// One page of writes (`page` as key `k{i}`), in a transaction of its own.
    async fn commit_page(db: &Db, i: i64, page: &str) {
        let mut tx = db.write().await.unwrap();
        query("INSERT INTO instance_meta (key, value) VALUES ($1, $2)")
            .bind(format!("k{i}"))
            .bind(page)
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn once_checkpoints_run_apart_commits_leave_the_wal_to_them_and_they_copy_all_of_it() {
        let (db, _dir) = crate::store::test_db().await;
        if db.checkpoint().await.unwrap().is_none() {
            return; // PostgreSQL
        }
        // 1,500 pages of writes, each its own transaction: past the 1,000
        // at which a commit would checkpoint by itself
        let page = "x".repeat(4000);
        for i in 0..1_500i64 {
            commit_page(&db, i, &page).await;
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

    /// Regression: under a steady stream of commits the WAL never started
    /// again (each checkpoint copied only what was there when it began,
    /// and a commit always landed meanwhile), and grew by every page.
    #[tokio::test]
    async fn under_a_steady_stream_of_commits_checkpoints_start_the_wal_again() {
        let (db, _dir) = crate::store::test_db().await;
        if db.checkpoint().await.unwrap().is_none() {
            return; // PostgreSQL
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                let page = "x".repeat(4000);
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    commit_page(&db, i, &page).await;
                    i += 1;
                }
                i
            })
        };
        let mut sizes = Vec::new();
        for _ in 0..40 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            sizes.push(db.checkpoint_restarting(50).await.unwrap().unwrap().wal);
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.await.unwrap();
        assert!(
            written >= 100,
            "the writer kept writing ({written} commits)"
        );
        let biggest = *sizes.iter().max().unwrap();
        let last = *sizes.last().unwrap();
        assert!(
            sizes.windows(2).any(|w| w[1] < w[0]),
            "the WAL started again at some checkpoint: {sizes:?}"
        );
        assert!(
            biggest < written,
            "the WAL never held every commit's pages ({biggest} of {written}): {sizes:?}"
        );
        // every commit is there, through the restarts
        let key = format!("k{}", written - 1);
        assert_eq!(db.meta(&key).await.unwrap().map(|v| v.len()), Some(4000));
        assert!(last < written, "{sizes:?}");
    }
}
