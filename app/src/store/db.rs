//! The database a Stepwise instance keeps everything in: an embedded SQLite
//! file (the default) or a PostgreSQL database shared by any number of
//! processes. `Db::connect` picks the backend from the URL's scheme.
//!
//! Write transactions are serialized on both backends, so every use case
//! sees the database as if it were alone, as the engine's state changes
//! assume: SQLite takes its one write lock up front (`BEGIN IMMEDIATE`);
//! PostgreSQL takes one transaction-scoped advisory lock ([`WRITE_LOCK`]),
//! which every process's write transactions share and which the database
//! releases when the transaction ends, however it ends (a process that
//! dies mid-transaction loses its connection, and with it the lock).
//! Reads take no lock. The slow part of a step (the runner's call) happens
//! outside any transaction, so the lock is held only for bookkeeping.
//!
//! On PostgreSQL the engine's hot path is finer: a transaction that only
//! touches one run's own rows (its steps, attempts, log and items), starts
//! new runs, and appends to the audit trail ([`Db::write_run`]) holds
//! `WRITE_LOCK` in shared mode and an exclusive lock on its run, so two
//! runs advance side by side while every other write transaction, holding
//! `WRITE_LOCK` exclusively, still has the database to itself. Audit
//! appends take [`AUDIT_LOCK`] so the chain stays one chain. A claim takes
//! only the run it claims, with a try-lock, passing over runs being
//! written. Each transaction sees the same serialized database as before,
//! per run.

use super::conn::{Backend, Conn};
pub use super::db_url::{is_postgres, redacted};
pub use super::gate::{Known, TurnsTaken, WriteGate, gate_turns};
use super::{Durability, Result};
use sqlx::SqlitePool;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// The advisory lock key every write transaction on PostgreSQL holds
/// ("stepwise" in ASCII, so it is unlikely to meet another program's).
pub const WRITE_LOCK: i64 = 0x7374_6570_7769_7365;

/// Held by a transaction while it appends to the audit trail (PostgreSQL;
/// the one after `WRITE_LOCK`).
pub const AUDIT_LOCK: i64 = WRITE_LOCK + 1;

/// The first key of a run's lock; the second is `hashtext` of its id (two
/// 32-bit keys are a key space apart from the 64-bit ones above).
pub const RUN_LOCKS: i32 = 0x7377;

static BEGIN_LOCKED: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"));

static BEGIN_SHARED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("BEGIN; SELECT pg_advisory_xact_lock_shared({WRITE_LOCK})")
});

/// The SQL that takes run `run`'s lock, waiting for it, or None for an id
/// that is not plainly one (it is written into the statement).
fn run_lock_sql(run: &str) -> Option<String> {
    run.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        .then(|| format!("SELECT pg_advisory_xact_lock({RUN_LOCKS}, hashtext('{run}'))"))
}

/// A pool of connections to one backend.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The one pool shared by the UI, the API and the engine (on PostgreSQL,
/// with a small pool of its own for write transactions).
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: Pool,
    /// PostgreSQL: the connections write transactions run on. A write
    /// waits for the write lock holding its connection; were they taken
    /// from the pool reads use, waiting writers could take every
    /// connection while the lock's holder waits for one to read with (or a
    /// step's lease renewal waits behind them until the lease runs out).
    writer: Option<PgPool>,
    /// SQLite: held by this process's one writer at a time (see
    /// [`Db::write`]), with what its holders know of the database and the
    /// connection they write on.
    gate: std::sync::Arc<tokio::sync::Mutex<Known>>,
    /// SQLite: checkpoints are run beside the writers (`Db::checkpoint`),
    /// not by the writer connection as its commits fill the WAL.
    pub(super) apart: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// SQLite: the connections reads are lent (see `store::readers`).
    readers: Option<std::sync::Arc<super::readers::Readers>>,
    /// SQLite: how many turns at the gate may have changed rows that
    /// existed before them (see [`Db::runs_touched`]).
    touched: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Db {
    /// Opens the database at `url`: `sqlite://data/stepwise.db` (created if
    /// missing) or `postgres://user:password@host:port/database` (which
    /// must exist). `durability` is SQLite's; PostgreSQL keeps its own
    /// settings (`synchronous_commit`).
    pub async fn connect(url: &str, durability: Durability) -> Result<Db> {
        if is_postgres(url) {
            let opts = PgConnectOptions::from_str(url)?.application_name("stepwise");
            let pool = PgPoolOptions::new()
                .max_connections(12)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts.clone())
                .await?;
            // one transaction at a time holds the lock; a few more wait
            // a write stuck behind the lock fails instead of waiting forever
            let writer = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(opts.options([("lock_timeout", "60s")]))
                .await?;
            return Ok(Db {
                pool: Pool::Postgres(pool),
                writer: Some(writer),
                gate: Default::default(),
                apart: Default::default(),
                readers: None,
                touched: Default::default(),
            });
        }
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 512 KiB of pages a connection instead of SQLite's 2 MiB: the
            // pool's connections each filled their own under load (the
            // file's pages are in the OS cache anyway), and 8 of them took
            // the server past 64 MB once batched statements kept them all
            // busy; no throughput was lost (issue 20)
            .pragma("cache_size", "-512")
            // a group's batch returns a few hundred rows and counts: with
            // sqlx's 50, SQLite's thread waited for the runtime to read
            // them, the write gate held (issue 20)
            .row_buffer_size(1024);
        // sqlx pings a connection before lending it (and again when it
        // comes back): a round trip to its thread, as dear as a statement,
        // that finds nothing on a file the process itself holds open
        // (and again when it comes back: reads take theirs from `readers`;
        // the pool keeps the writer's, snapshots', checkpoints' and the
        // sessions store's)
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(opts.clone())
            .await?;
        Ok(Db {
            pool: Pool::Sqlite(pool),
            writer: None,
            gate: Default::default(),
            apart: Default::default(),
            readers: Some(std::sync::Arc::new(super::readers::Readers::new(opts))),
            touched: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations (embedded at build time), each backend
    /// from its own folder.
    pub async fn migrate(&self) -> std::result::Result<(), sqlx::migrate::MigrateError> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("../migrations/sqlite").run(p).await,
            Pool::Postgres(p) => sqlx::migrate!("../migrations/postgres").run(p).await,
        }
    }

    /// Whether every embedded migration has been applied.
    pub async fn migrations_applied(&self) -> Result<bool> {
        let expected = match self.pool {
            Pool::Sqlite(_) => sqlx::migrate!("../migrations/sqlite").iter().count(),
            Pool::Postgres(_) => sqlx::migrate!("../migrations/postgres").iter().count(),
        };
        let applied: i64 =
            super::conn::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut self.acquire().await?)
                .await?;
        Ok(applied as usize >= expected)
    }

    /// A write transaction, serialized with every other (see the module
    /// docs), so a read-then-write inside it sees no other writer.
    ///
    /// On SQLite this process's writers first queue for an in-process gate,
    /// in order, and only its holder asks SQLite for the write lock: two
    /// connections asking at once would leave one in SQLite's busy
    /// handler, which sleeps in steps of up to 100 ms however soon the
    /// lock is free (the tail latency under load was those sleeps).
    pub async fn write(&self) -> Result<Conn> {
        match &self.pool {
            Pool::Sqlite(p) => {
                let gate = self.writer_gate(p).await?;
                self.touch();
                // BEGIN IMMEDIATE goes with the first statement
                Ok(Conn::SqliteWrite(gate))
            }
            Pool::Postgres(p) => {
                // one round trip: BEGIN and the lock together
                let tx = self
                    .writer
                    .as_ref()
                    .unwrap_or(p)
                    .begin_with(BEGIN_LOCKED.as_str())
                    .await?;
                Ok(Conn::PgTx(tx))
            }
        }
    }

    /// A write transaction confined to run `run` (and, with None, to runs
    /// it creates): it may change that run's own rows, insert new runs and
    /// append to the audit trail, nothing else. Serialized with every
    /// transaction of the same run and with every [`Db::write`]; side by
    /// side with those of other runs (see the module docs). On SQLite the
    /// same as `write`, except that with None (new runs only) it leaves
    /// [`Db::runs_touched`] as it is.
    pub async fn write_run(&self, run: Option<&str>) -> Result<Conn> {
        let p = match (&self.pool, run) {
            (Pool::Postgres(p), _) => p,
            // only new runs: nothing that existed changes
            (Pool::Sqlite(p), None) => return Ok(Conn::SqliteWrite(self.writer_gate(p).await?)),
            (Pool::Sqlite(_), Some(_)) => return self.write().await,
        };
        let begin = match run.map(run_lock_sql) {
            None => BEGIN_SHARED.clone(),
            Some(Some(lock)) => format!("{}; {lock}", *BEGIN_SHARED),
            // not an id of ours: the whole database, to be safe
            Some(None) => return self.write().await,
        };
        let tx = self.writer.as_ref().unwrap_or(p).begin_with(begin).await?;
        Ok(Conn::PgTx(tx))
    }

    /// A read-only transaction that sees the database as it was when it
    /// began, however long it lasts (copying a whole instance).
    pub async fn snapshot(&self) -> Result<Conn> {
        match &self.pool {
            // in WAL mode a read transaction keeps the snapshot of its first read
            Pool::Sqlite(p) => Ok(Conn::SqliteTx(p.begin().await?)),
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                Ok(Conn::PgTx(tx))
            }
        }
    }

    /// For writes of one statement each, atomic alone (a claim, a lease
    /// renewal), outside a transaction: on SQLite the writer connection,
    /// with the writers' gate held until dropped (see [`Db::write`]); on
    /// PostgreSQL a pooled connection.
    pub async fn write_each(&self) -> Result<Conn> {
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut gate = self.writer_gate(p).await?;
                self.touch();
                gate.each_alone();
                Ok(Conn::SqliteWrite(gate))
            }
            Pool::Postgres(p) => Ok(Conn::Pg(p.acquire().await?)),
        }
    }

    /// The writers' gate with the writer connection (taken from the pool
    /// the first time).
    pub(super) async fn writer_gate(&self, pool: &SqlitePool) -> Result<WriteGate> {
        let mut gate = self.take_gate().await;
        if !gate.has_writer() {
            gate.set_writer(pool.acquire().await?);
        }
        if self.apart.load(std::sync::atomic::Ordering::Relaxed) && !gate.writer_apart() {
            // its commits no longer checkpoint (see `store::checkpoint`)
            sqlx::query("PRAGMA wal_autocheckpoint = 0")
                .execute(gate.writer())
                .await?;
            gate.set_writer_apart();
        }
        Ok(gate)
    }

    /// SQLite: a count that every turn at the write gate which may change
    /// rows that existed before it ([`Db::write`], [`Db::write_each`],
    /// [`Db::write_run`] of a run) raises as it begins; a transaction that
    /// only inserts new runs (`write_run(None)`) and a checkpoint leave it.
    /// Read while holding the gate, it names the database as that
    /// transaction leaves it: a view of a run read then still stands
    /// while the count is the same (every write of this process takes the
    /// gate, and SQLite serves one process). None on PostgreSQL, where
    /// other processes write too.
    pub fn runs_touched(&self) -> Option<u64> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.touched.load(std::sync::atomic::Ordering::SeqCst)),
            Pool::Postgres(_) => None,
        }
    }

    /// A turn that may change what existed began (see [`Db::runs_touched`]).
    fn touch(&self) {
        self.touched
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    async fn take_gate(&self) -> WriteGate {
        WriteGate::take(&self.gate).await
    }

    /// A connection from the pool, for reads (each statement on its own).
    pub async fn acquire(&self) -> std::result::Result<Conn, sqlx::Error> {
        match &self.pool {
            Pool::Sqlite(p) => match &self.readers {
                Some(r) => Ok(Conn::SqliteRead(r.acquire().await?)),
                None => Ok(Conn::Sqlite(p.acquire().await?)),
            },
            Pool::Postgres(p) => Ok(Conn::Pg(p.acquire().await?)),
        }
    }

    /// SQLite: how many read connections are idle (for tests).
    pub fn idle_readers(&self) -> usize {
        self.readers.as_ref().map_or(0, |r| r.idle())
    }

    /// Closes every connection (waiting for those in use to come back).
    pub async fn close(&self) {
        if let Some(w) = &self.writer {
            w.close().await;
        }
        if let Pool::Sqlite(_) = &self.pool {
            // the writer connection kept with the gate, once its holder is done
            self.take_gate().await.release_writer();
        }
        if let Some(r) = &self.readers {
            r.close().await;
        }
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(
            super::conn::query_scalar("SELECT value FROM instance_meta WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut self.acquire().await?)
                .await?,
        )
    }
}
