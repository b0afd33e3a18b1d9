//! The steps table as a work queue: claims, leases, step updates, recovery.

use crate::domain::run::StepStatus;
use crate::store::Result;
use serde_json::Value;
use sqlx::SqliteConnection;

/// A step a worker has taken.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimed {
    pub run_id: String,
    pub node_id: String,
    pub attempt: i64,
    /// The step was parked (timer, person) and this claim wakes it.
    pub parked: bool,
    pub cum_in: f64,
    pub input_override: Option<String>,
    /// Taken inside the transaction that also stores its result, without
    /// writing the claim: that update sets the attempt and start time too.
    #[sqlx(skip)]
    pub unwritten: bool,
}

impl Claimed {
    /// A step just made ready in the current write transaction, taken on
    /// the spot (nobody else can see it before the commit).
    pub fn in_transaction(run_id: &str, a: &Activated) -> Claimed {
        Claimed {
            run_id: run_id.to_string(),
            node_id: a.node.clone(),
            attempt: a.attempt,
            parked: false,
            cum_in: a.cum_in,
            input_override: None,
            unwritten: true,
        }
    }
}

/// A step `resolve_pending` made ready.
#[derive(Clone, Debug)]
pub struct Activated {
    pub node: String,
    pub cum_in: f64,
    /// The attempt it would start as.
    pub attempt: i64,
}

/// A claim of the steps matching `$where` (?1 worker, ?2 now, ?3 lease end):
/// running, one more attempt, leased, returning what the worker needs.
macro_rules! claim_sql {
    ($where:literal) => {
        concat!(
            "UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = ?1,
                    lease_until = ?3, started_at = ?2 WHERE ",
            $where,
            " RETURNING run_id, node_id, attempt, parked, cum_in, input_override"
        )
    };
}

/// Takes one due step (ready, or parked with its wake-up time passed) and
/// leases it to `worker` until `lease_until`, as a new attempt. One
/// statement, so two workers can never take the same step.
pub async fn claim(
    conn: &mut SqliteConnection,
    worker: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<Claimed>> {
    Ok(sqlx::query_as(claim_sql!(
        "rowid = (SELECT rowid FROM steps
                  WHERE status IN ('ready', 'waiting') AND not_before <= ?2
                  ORDER BY not_before LIMIT 1)"
    ))
    .bind(worker)
    .bind(now)
    .bind(lease_until)
    .fetch_optional(conn)
    .await?)
}

/// Whether `worker` still holds the lease of this attempt (inside a write
/// transaction: nobody can take it away before commit).
pub async fn holds_lease(conn: &mut SqliteConnection, c: &Claimed, worker: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM steps WHERE run_id = ? AND node_id = ? AND status = 'running'
         AND lease_owner = ? AND attempt = ?",
    )
    .bind(&c.run_id)
    .bind(&c.node_id)
    .bind(worker)
    .bind(c.attempt)
    .fetch_one(conn)
    .await?;
    Ok(n == 1)
}

/// The fields a finished attempt writes to its step.
pub struct StepUpdate<'a> {
    pub status: StepStatus,
    pub not_before: i64,
    pub parked: bool,
    pub port: Option<&'a str>,
    pub output: Option<&'a Value>,
    pub error_class: Option<&'a str>,
    pub error: Option<&'a str>,
    pub confidence: Option<f64>,
    pub cum_confidence: Option<f64>,
    pub finished_at: Option<i64>,
    /// For an `unwritten` claim: the attempt number and start time.
    pub claim: Option<(i64, i64)>,
}

impl<'a> StepUpdate<'a> {
    /// A step that ends (or waits) now with nothing recorded yet; the caller
    /// fills in what the attempt produced.
    pub fn new(status: StepStatus, now: i64) -> Self {
        StepUpdate {
            status,
            not_before: now,
            parked: false,
            port: None,
            output: None,
            error_class: None,
            error: None,
            confidence: None,
            cum_confidence: None,
            finished_at: status.is_final().then_some(now),
            claim: None,
        }
    }
}

pub async fn update_step(
    conn: &mut SqliteConnection,
    run_id: &str,
    node_id: &str,
    u: &StepUpdate<'_>,
) -> Result<()> {
    sqlx::query(
        "UPDATE steps SET status = ?3, not_before = ?4, parked = ?5, port = ?6, output = ?7,
                error_class = ?8, error = ?9, confidence = ?10, cum_confidence = ?11,
                finished_at = ?12, lease_owner = NULL, lease_until = NULL,
                attempt = COALESCE(?13, attempt), started_at = COALESCE(?14, started_at),
                finish_seq = CASE WHEN ?12 IS NULL THEN NULL
                    ELSE (SELECT COALESCE(MAX(finish_seq), 0) + 1 FROM steps WHERE run_id = ?1) END
         WHERE run_id = ?1 AND node_id = ?2",
    )
    .bind(run_id)
    .bind(node_id)
    .bind(u.status.as_str())
    .bind(u.not_before)
    .bind(u.parked)
    .bind(u.port)
    .bind(u.output.map(Value::to_string))
    .bind(u.error_class)
    .bind(u.error.map(super::log::capped_error))
    .bind(u.confidence)
    .bind(u.cum_confidence)
    .bind(u.finished_at)
    .bind(u.claim.map(|(attempt, _)| attempt))
    .bind(u.claim.map(|(_, started)| started))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a pending step to ready (with the confidence it starts from) or
/// skipped. Returns the step when it became ready and may run on the spot
/// (it was pending, and nobody gave it an input by hand).
pub async fn resolve_pending(
    conn: &mut SqliteConnection,
    run_id: &str,
    node_id: &str,
    status: StepStatus,
    cum_in: f64,
    now: i64,
) -> Result<Option<Activated>> {
    let row: Option<(i64, bool)> = sqlx::query_as(
        "UPDATE steps SET status = ?3, cum_in = ?4, not_before = ?5,
                finished_at = CASE WHEN ?3 = 'skipped' THEN ?5 END
         WHERE run_id = ?1 AND node_id = ?2 AND status = 'pending'
         RETURNING attempt, input_override IS NOT NULL",
    )
    .bind(run_id)
    .bind(node_id)
    .bind(status.as_str())
    .bind(cum_in)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some((attempt, false)) if status == StepStatus::Ready => Some(Activated {
            node: node_id.to_string(),
            cum_in,
            attempt: attempt + 1,
        }),
        _ => None,
    })
}

/// Cancels every step of the run that still has work ahead.
pub async fn cancel_open_steps(conn: &mut SqliteConnection, run_id: &str, now: i64) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE steps SET status = 'cancelled', lease_owner = NULL, lease_until = NULL, finished_at = ?2
         WHERE run_id = ?1 AND status IN ('pending', 'ready', 'running', 'waiting')",
    )
    .bind(run_id)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Leases that ran out (their worker died) go back to ready as a new
/// attempt; the lost attempt is logged. Returns the steps recovered.
pub async fn recover_expired(
    conn: &mut SqliteConnection,
    now: i64,
) -> Result<Vec<(String, String)>> {
    let lost: Vec<(String, String, i64, String, i64)> = sqlx::query_as(
        "SELECT run_id, node_id, attempt, COALESCE(lease_owner, ''), COALESCE(started_at, 0)
         FROM steps WHERE status = 'running' AND lease_until < ?",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    for (run_id, node_id, attempt, worker, started_at) in &lost {
        sqlx::query(
            "INSERT OR IGNORE INTO step_attempts (run_id, node_id, attempt, worker, started_at, finished_at, outcome, error_class, error)
             VALUES (?, ?, ?, ?, ?, ?, 'lost', 'transient', 'the worker stopped before finishing (lease expired)')",
        )
        .bind(run_id)
        .bind(node_id)
        .bind(attempt)
        .bind(worker)
        .bind(started_at)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE steps SET status = 'ready', lease_owner = NULL, lease_until = NULL, not_before = ?3
             WHERE run_id = ?1 AND node_id = ?2 AND status = 'running'",
        )
        .bind(run_id)
        .bind(node_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(lost.into_iter().map(|(r, n, ..)| (r, n)).collect())
}

/// Runs past their deadline that are still running.
pub async fn overdue_runs(conn: &mut SqliteConnection, now: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM runs WHERE status = 'running' AND deadline_at IS NOT NULL AND deadline_at <= ?",
    )
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// When the next parked or delayed step is due (for the timer).
pub async fn next_due(conn: &mut SqliteConnection) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar(
            "SELECT MIN(not_before) FROM steps WHERE status IN ('ready', 'waiting')",
        )
        .fetch_one(conn)
        .await?,
    )
}

/// Ready steps of one run that are due, excluding compensations and steps
/// given a context by hand.
pub async fn due_in_run(
    conn: &mut SqliteConnection,
    run_id: &str,
    now: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT node_id FROM steps WHERE run_id = ? AND status = 'ready' AND not_before <= ?
           AND input_override IS NULL AND node_id NOT LIKE '%~compensate'
         ORDER BY rowid",
    )
    .bind(run_id)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Claims one particular ready step (see `claim`).
pub async fn claim_step(
    conn: &mut SqliteConnection,
    run_id: &str,
    node_id: &str,
    worker: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<Claimed>> {
    Ok(sqlx::query_as(claim_sql!(
        "run_id = ?4 AND node_id = ?5 AND status = 'ready'"
    ))
    .bind(worker)
    .bind(now)
    .bind(lease_until)
    .bind(run_id)
    .bind(node_id)
    .fetch_optional(conn)
    .await?)
}
