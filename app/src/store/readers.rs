//! SQLite's read connections, lent and taken back without sqlx's pool.
//!
//! sqlx's pool pings every connection given back to it: a round trip to
//! the connection's own thread, as dear as the read it follows, and a task
//! spawned to make it (issue 20: a run read through the REST API cost
//! three of them). A SQLite connection's thread runs its commands in turn,
//! so a read dropped half-way (a cancelled request) leaves nothing for the
//! next reader to meet but the rest of that command, which the thread
//! finishes (or stops, when nobody takes its rows) first; reads open no
//! transaction of their own. So a connection goes straight back to the
//! idle ones here. One whose command failed is closed instead, in case it
//! broke.
//!
//! Write transactions keep their own connection (`store::gate`); read
//! transactions (`Db::snapshot`) and everything else that wants sqlx's
//! pool (the sessions store, migrations, checkpoints) still use it.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many read connections a process keeps at most.
pub const READERS: usize = 6;

/// The idle read connections, and the right to open or hold one.
#[derive(Debug)]
pub struct Readers {
    opts: SqliteConnectOptions,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    idle: Mutex<Idle>,
    permits: Arc<Semaphore>,
}

#[derive(Debug, Default)]
struct Idle {
    conns: Vec<SqliteConnection>,
    /// Closed: a connection given back is closed, not kept.
    closed: bool,
}

/// A read connection lent by [`Readers::acquire`]; back to the idle ones
/// when dropped.
#[derive(Debug)]
pub struct Reader {
    conn: Option<SqliteConnection>,
    home: Arc<Inner>,
    /// A command on it failed: closed rather than lent again.
    broken: bool,
    _permit: OwnedSemaphorePermit,
}

impl Readers {
    pub fn new(opts: SqliteConnectOptions) -> Readers {
        Readers {
            opts,
            inner: Arc::new(Inner {
                idle: Mutex::new(Idle::default()),
                permits: Arc::new(Semaphore::new(READERS)),
            }),
        }
    }

    /// An idle connection, or a new one when none is idle and fewer than
    /// [`READERS`] are open; otherwise waits for one to come back.
    pub async fn acquire(&self) -> Result<Reader, sqlx::Error> {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = {
            let mut idle = self.inner.idle.lock().expect("readers");
            if idle.closed {
                return Err(sqlx::Error::PoolClosed);
            }
            idle.conns.pop()
        };
        let conn = match idle {
            Some(c) => c,
            None => self.opts.connect().await?,
        };
        Ok(Reader {
            conn: Some(conn),
            home: self.inner.clone(),
            broken: false,
            _permit: permit,
        })
    }

    /// Closes the idle connections; those lent are closed as they come
    /// back, and no more are lent.
    pub async fn close(&self) {
        let conns = {
            let mut idle = self.inner.idle.lock().expect("readers");
            idle.closed = true;
            std::mem::take(&mut idle.conns)
        };
        self.inner.permits.close();
        for c in conns {
            let _ = c.close().await;
        }
    }

    /// How many connections are idle (for tests).
    pub fn idle(&self) -> usize {
        self.inner.idle.lock().expect("readers").conns.len()
    }
}

impl Reader {
    /// A command on it failed: it is closed when dropped.
    pub fn set_broken(&mut self) {
        self.broken = true;
    }
}

impl std::ops::Deref for Reader {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().expect("lent until dropped")
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("lent until dropped")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut idle = self.home.idle.lock().expect("readers");
        if !self.broken && !idle.closed {
            idle.conns.push(conn);
            return;
        }
        drop(idle);
        // closing is a round trip to its thread; dropped, the connection
        // closes on that thread by itself
        drop(conn);
    }
}

#[cfg(test)]
mod tests {
    use super::READERS;
    use crate::store::conn::{Backend, query_scalar};
    use std::time::Duration;

    #[tokio::test]
    async fn a_read_connection_goes_back_to_the_idle_ones_and_is_lent_again() {
        let (db, _dir) = crate::store::test_db().await;
        if db.backend() == Backend::Postgres {
            return;
        }
        let idle = db.idle_readers();
        {
            let mut c = db.acquire().await.unwrap();
            let one: i64 = query_scalar("SELECT 1").fetch_one(&mut c).await.unwrap();
            assert_eq!(one, 1);
        }
        // given back without a round trip (nothing to wait for)
        let back = db.idle_readers();
        assert!(back >= 1 && back >= idle, "idle after: {back}");
        let mut c = db.acquire().await.unwrap();
        assert_eq!(db.idle_readers(), back - 1, "an idle one is lent again");
        let two: i64 = query_scalar("SELECT 2").fetch_one(&mut c).await.unwrap();
        assert_eq!(two, 2);
    }

    #[tokio::test]
    async fn a_read_dropped_half_way_leaves_its_connection_answering_the_next_one() {
        let (db, _dir) = crate::store::test_db().await;
        if db.backend() == Backend::Postgres {
            return;
        }
        // hold every read connection but one, so the next read gets the
        // one the dropped read used
        let mut held = Vec::new();
        for _ in 0..READERS - 1 {
            held.push(db.acquire().await.unwrap());
        }
        let long = async {
            let mut c = db.acquire().await.unwrap();
            let rows: Vec<i64> = query_scalar(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000)
                 SELECT x FROM c",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            rows.len()
        };
        let cut = tokio::time::timeout(Duration::from_millis(20), long).await;
        assert!(cut.is_err(), "the long read was to be cut short");
        let answer = tokio::time::timeout(Duration::from_secs(20), async {
            let mut c = db.acquire().await.unwrap();
            query_scalar::<i64>("SELECT 42").fetch_one(&mut c).await
        })
        .await
        .expect("the next read is answered");
        assert_eq!(answer.unwrap(), 42);
        drop(held);
    }

    #[tokio::test]
    async fn no_more_than_the_readers_are_lent_at_once_and_none_once_closed() {
        let (db, _dir) = crate::store::test_db().await;
        if db.backend() == Backend::Postgres {
            return;
        }
        let mut held = Vec::new();
        for _ in 0..READERS {
            held.push(db.acquire().await.unwrap());
        }
        let waited = tokio::time::timeout(Duration::from_millis(100), db.acquire()).await;
        assert!(waited.is_err(), "a read past the limit waits");
        held.pop();
        let mut c = tokio::time::timeout(Duration::from_secs(5), db.acquire())
            .await
            .expect("lent once one came back")
            .unwrap();
        let three: i64 = query_scalar("SELECT 3").fetch_one(&mut c).await.unwrap();
        assert_eq!(three, 3);
        drop((c, held));
        db.close().await;
        assert_eq!(db.idle_readers(), 0, "closed, none kept");
        assert!(db.acquire().await.is_err(), "none lent once closed");
    }
}
