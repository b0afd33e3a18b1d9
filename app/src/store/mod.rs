//! (ssr) The SQLite store. Functions take a connection so the use cases in
//! `ops` can run several of them in one transaction.

pub mod accounts;
pub mod approvals;
pub mod audit;
pub mod conn;
pub mod models;
pub mod runs;
pub mod trigger_events;
pub mod triggers;
pub mod workflows;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    /// Maps SQLite's unique-constraint failure to a conflict with `message`.
    pub fn unique_as(self, message: &str) -> StoreError {
        match &self {
            StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                StoreError::Conflict(message.to_string())
            }
            _ => self,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// How hard SQLite works to keep a commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// WAL + synchronous=NORMAL: a commit survives a process crash; the last
    /// commits may be lost on power loss.
    #[default]
    Normal,
    /// WAL + synchronous=FULL: a commit survives power loss, at the cost of
    /// an fsync per commit.
    Full,
}

impl FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Durability::Normal),
            "full" => Ok(Durability::Full),
            other => Err(format!(
                "durability must be 'normal' or 'full', not '{other}'"
            )),
        }
    }
}

/// The one pool shared by the UI, the API and the engine.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: SqlitePool,
}

impl Db {
    /// Opens (creating if needed) the database at `url`, e.g.
    /// `sqlite://data/stepwise.db`.
    pub async fn connect(url: &str, durability: Durability) -> Result<Db> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await?;
        Ok(Db { pool })
    }

    /// Applies pending migrations (embedded at build time).
    pub async fn migrate(&self) -> std::result::Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("../migrations/sqlite").run(&self.pool).await
    }

    /// Whether every embedded migration has been applied.
    pub async fn migrations_applied(&self) -> Result<bool> {
        let migrator = sqlx::migrate!("../migrations/sqlite");
        let applied: i64 = crate::store::conn::query_scalar(
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1",
        )
        .fetch_one(&mut self.acquire().await?)
        .await?;
        Ok(applied as usize >= migrator.iter().count())
    }

    /// A write transaction that takes SQLite's write lock up front, so a
    /// read-then-write inside it cannot fail half-way with SQLITE_BUSY.
    pub async fn write(&self) -> Result<conn::Conn> {
        Ok(conn::Conn::SqliteTx(
            self.pool.begin_with("BEGIN IMMEDIATE").await?,
        ))
    }

    /// A connection from the pool, for reads (each statement on its own).
    pub async fn acquire(&self) -> std::result::Result<conn::Conn, sqlx::Error> {
        Ok(conn::Conn::Sqlite(self.pool.acquire().await?))
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(
            crate::store::conn::query_scalar("SELECT value FROM instance_meta WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut self.acquire().await?)
                .await?,
        )
    }
}

pub async fn set_meta(conn: &mut crate::store::conn::Conn, key: &str, value: &str) -> Result<()> {
    crate::store::conn::query("INSERT INTO instance_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

/// A fresh database in a temporary directory, for tests.
#[cfg(test)]
pub async fn test_db() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = Db::connect(&url, Durability::Normal).await.unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}
