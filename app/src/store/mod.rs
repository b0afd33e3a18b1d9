//! (ssr) The store, on SQLite or PostgreSQL (see `conn` and `db`). Functions take a connection so the use cases in
//! `ops` can run several of them in one transaction.

pub mod accounts;
pub mod alert_rules;
pub mod approvals;
pub mod audit;
mod checkpoint;
pub mod conn;
pub mod copy;
mod gate;
pub mod models;
pub mod monitoring;
pub mod outbox;
pub mod readers;
pub mod remembered;
pub mod retention;
pub mod runs;
pub mod test_listens;
pub mod trigger_events;
pub mod triggers;
pub mod workflows;

pub mod db;
mod db_url;
pub mod gauges;
pub mod golden;
pub use db::{Db, Pool};

use std::str::FromStr;

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
    /// Maps a unique-constraint failure to a conflict with `message`.
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

/// `NotFound` when a change touched no row (the row it names is not there).
pub fn found(rows: u64) -> Result<()> {
    if rows == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

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

pub async fn set_meta(conn: &mut crate::store::conn::Conn, key: &str, value: &str) -> Result<()> {
    crate::store::conn::query("INSERT INTO instance_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_meta(conn: &mut crate::store::conn::Conn, key: &str) -> Result<()> {
    crate::store::conn::query("DELETE FROM instance_meta WHERE key = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// A fresh database for a test: a SQLite file in a temporary directory,
/// or with `STEPWISE_TEST_BACKEND=postgres` a new database on the cluster
/// in `STEPWISE_TEST_PG_URL` (make test runs the store tests on both).
#[cfg(test)]
pub async fn test_db() -> (Db, tempfile::TempDir) {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let url = if std::env::var("STEPWISE_TEST_BACKEND").is_ok_and(|b| b == "postgres") {
        let server = std::env::var("STEPWISE_TEST_PG_URL").expect("run under scripts/pg.sh");
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let (base, _) = server.rsplit_once('/').unwrap();
        format!("{base}/{name}")
    } else {
        format!("sqlite://{}", dir.path().join("test.db").display())
    };
    let db = Db::connect(&url, Durability::Normal).await.unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}

/// [`test_db`] with a run of Start → End started at 1,000 (workflow
/// `wf_1`): its Start ready and its End pending.
#[cfg(test)]
pub async fn test_started_run() -> (Db, tempfile::TempDir, crate::domain::ids::RunId) {
    use crate::domain::graph::WorkflowDef;
    let (db, dir) = test_db().await;
    let mut conn = db.acquire().await.unwrap();
    workflows::insert(&mut conn, "wf_1", "W", &WorkflowDef::minimal(), 0, "a", 1)
        .await
        .unwrap();
    drop(conn);
    let actor = crate::domain::audit::Actor("t".into());
    let input = serde_json::json!({});
    let via = crate::ops::runs::Via::Api;
    let run = crate::ops::runs::start(&db, &actor, "wf_1", None, &input, via, 1_000)
        .await
        .unwrap();
    (db, dir, run)
}
