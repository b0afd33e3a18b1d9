//! Runs, steps (the work queue) and the per-attempt step log.

use super::{Result, StoreError};
use crate::domain::machine::NodeState;
use crate::domain::records::{AttemptRecord, RunRecord, StepRecord};
use crate::domain::run::{RunStatus, StepStatus};
use serde_json::Value;
use sqlx::SqliteConnection;
use std::collections::BTreeMap;

fn json_col(v: Option<String>) -> Option<Value> {
    v.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s)))
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} '{v}'"))
}

pub struct NewRun<'a> {
    pub id: &'a str,
    pub workflow_id: &'a str,
    pub version: i64,
    pub input: &'a Value,
    pub started_by: &'a str,
    pub now: i64,
    pub deadline_at: Option<i64>,
    pub rerun_of: Option<&'a str>,
}

pub async fn insert_run(conn: &mut SqliteConnection, r: &NewRun<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO runs (id, workflow_id, version, status, input, started_by, created_at, deadline_at, rerun_of)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)",
    )
    .bind(r.id)
    .bind(r.workflow_id)
    .bind(r.version)
    .bind(r.input.to_string())
    .bind(r.started_by)
    .bind(r.now)
    .bind(r.deadline_at)
    .bind(r.rerun_of)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_step(
    conn: &mut SqliteConnection,
    run_id: &str,
    node_id: &str,
    status: StepStatus,
    not_before: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO steps (run_id, node_id, status, not_before) VALUES (?, ?, ?, ?)")
        .bind(run_id)
        .bind(node_id)
        .bind(status.as_str())
        .bind(not_before)
        .execute(conn)
        .await?;
    Ok(())
}

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
    Ok(sqlx::query_as(
        "UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = ?1,
                lease_until = ?3, started_at = ?2
         WHERE rowid = (SELECT rowid FROM steps
                        WHERE status IN ('ready', 'waiting') AND not_before <= ?2
                        ORDER BY not_before LIMIT 1)
         RETURNING run_id, node_id, attempt, parked, cum_in, input_override",
    )
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
    .bind(u.error)
    .bind(u.confidence)
    .bind(u.cum_confidence)
    .bind(u.finished_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a pending step to ready (with the confidence it starts from) or
/// skipped.
pub async fn resolve_pending(
    conn: &mut SqliteConnection,
    run_id: &str,
    node_id: &str,
    status: StepStatus,
    cum_in: f64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE steps SET status = ?3, cum_in = ?4, not_before = ?5,
                finished_at = CASE WHEN ?3 = 'skipped' THEN ?5 END
         WHERE run_id = ?1 AND node_id = ?2 AND status = 'pending'",
    )
    .bind(run_id)
    .bind(node_id)
    .bind(status.as_str())
    .bind(cum_in)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
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

pub struct NewAttempt<'a> {
    pub claimed: &'a Claimed,
    pub worker: &'a str,
    pub started_at: i64,
    pub finished_at: i64,
    pub input: Option<&'a Value>,
    pub output: Option<&'a Value>,
    pub outcome: &'a str,
    pub error_class: Option<&'a str>,
    pub error: Option<&'a str>,
    pub confidence: Option<f64>,
}

pub async fn insert_attempt(conn: &mut SqliteConnection, a: &NewAttempt<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO step_attempts (run_id, node_id, attempt, worker, started_at, finished_at, input, output,
                                    outcome, error_class, error, confidence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&a.claimed.run_id)
    .bind(&a.claimed.node_id)
    .bind(a.claimed.attempt)
    .bind(a.worker)
    .bind(a.started_at)
    .bind(a.finished_at)
    .bind(a.input.map(Value::to_string))
    .bind(a.output.map(Value::to_string))
    .bind(a.outcome)
    .bind(a.error_class)
    .bind(a.error)
    .bind(a.confidence)
    .execute(conn)
    .await?;
    Ok(())
}

/// How a run ended.
pub struct RunEnd {
    pub status: RunStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub confidence: Option<f64>,
}

impl RunEnd {
    pub fn failed(status: RunStatus, reason: impl Into<String>) -> Self {
        RunEnd {
            status,
            output: None,
            error: Some(reason.into()),
            confidence: None,
        }
    }
}

/// Records how a running run ended; false if it had ended already.
pub async fn finish_run(
    conn: &mut SqliteConnection,
    run_id: &str,
    end: &RunEnd,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE runs SET status = ?2, output = ?3, error = ?4, confidence = COALESCE(?5, confidence),
                finished_at = ?6
         WHERE id = ?1 AND status = 'running'",
    )
    .bind(run_id)
    .bind(end.status.as_str())
    .bind(end.output.as_ref().map(Value::to_string))
    .bind(end.error.as_deref())
    .bind(end.confidence)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The machine's view of a run's steps.
pub async fn node_states(
    conn: &mut SqliteConnection,
    run_id: &str,
) -> Result<BTreeMap<String, NodeState>> {
    let rows: Vec<(String, String, Option<String>, Option<f64>)> =
        sqlx::query_as("SELECT node_id, status, port, cum_confidence FROM steps WHERE run_id = ?")
            .bind(run_id)
            .fetch_all(conn)
            .await?;
    rows.into_iter()
        .map(|(node, status, port, cum)| {
            let status =
                StepStatus::parse(&status).ok_or_else(|| corrupt("step status", &status))?;
            Ok((
                node,
                NodeState {
                    status,
                    port,
                    cum_confidence: cum,
                },
            ))
        })
        .collect()
}

/// What one step produced.
pub struct StepResult {
    pub output: Option<Value>,
    pub cum_confidence: Option<f64>,
    pub error_class: Option<String>,
    pub error: Option<String>,
}

pub async fn step_result(
    conn: &mut SqliteConnection,
    run_id: &str,
    node_id: &str,
) -> Result<StepResult> {
    let (output, cum_confidence, error_class, error): (Option<String>, Option<f64>, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT output, cum_confidence, error_class, error FROM steps WHERE run_id = ? AND node_id = ?",
        )
        .bind(run_id)
        .bind(node_id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(StepResult {
        output: json_col(output),
        cum_confidence,
        error_class,
        error,
    })
}

/// Makes a failed step ready again (with an optional context given by a
/// person), returns the steps its failure cancelled to pending, and reopens
/// the run.
pub async fn reopen_for_retry(
    conn: &mut SqliteConnection,
    run_id: &str,
    node_id: &str,
    input: Option<&Value>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE steps SET status = 'ready', not_before = ?3, port = NULL, error = NULL, error_class = NULL,
                finished_at = NULL, finish_seq = NULL, input_override = ?4
         WHERE run_id = ?1 AND node_id = ?2",
    )
    .bind(run_id)
    .bind(node_id)
    .bind(now)
    .bind(input.map(Value::to_string))
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE steps SET status = 'pending', finished_at = NULL WHERE run_id = ? AND status = 'cancelled'")
        .bind(run_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE runs SET status = 'running', error = NULL, finished_at = NULL, output = NULL WHERE id = ?")
        .bind(run_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    workflow_id: String,
    version: i64,
    status: String,
    input: String,
    output: Option<String>,
    error: Option<String>,
    confidence: Option<f64>,
    started_by: String,
    created_at: i64,
    finished_at: Option<i64>,
    deadline_at: Option<i64>,
    rerun_of: Option<String>,
}

pub async fn get_run(conn: &mut SqliteConnection, id: &str) -> Result<RunRecord> {
    let r: RunRow = sqlx::query_as("SELECT * FROM runs WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(RunRecord {
        status: RunStatus::parse(&r.status).ok_or_else(|| corrupt("run status", &r.status))?,
        input: serde_json::from_str(&r.input).unwrap_or(Value::Null),
        output: json_col(r.output),
        id: r.id,
        workflow_id: r.workflow_id,
        version: r.version,
        error: r.error,
        confidence: r.confidence,
        started_by: r.started_by,
        created_at: r.created_at,
        finished_at: r.finished_at,
        deadline_at: r.deadline_at,
        rerun_of: r.rerun_of,
    })
}

#[derive(sqlx::FromRow)]
struct StepRow {
    node_id: String,
    status: String,
    attempt: i64,
    not_before: i64,
    port: Option<String>,
    output: Option<String>,
    error_class: Option<String>,
    error: Option<String>,
    confidence: Option<f64>,
    cum_confidence: Option<f64>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
}

/// The steps of a run in the order they finished (open ones last).
pub async fn get_steps(conn: &mut SqliteConnection, run_id: &str) -> Result<Vec<StepRecord>> {
    let rows: Vec<StepRow> = sqlx::query_as(
        "SELECT node_id, status, attempt, not_before, port, output, error_class, error, confidence,
                cum_confidence, started_at, finished_at
         FROM steps WHERE run_id = ? ORDER BY finish_seq IS NULL, finish_seq, rowid",
    )
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(StepRecord {
                status: StepStatus::parse(&r.status)
                    .ok_or_else(|| corrupt("step status", &r.status))?,
                output: json_col(r.output),
                node_id: r.node_id,
                attempt: r.attempt,
                not_before: r.not_before,
                port: r.port,
                error_class: r.error_class,
                error: r.error,
                confidence: r.confidence,
                cum_confidence: r.cum_confidence,
                started_at: r.started_at,
                finished_at: r.finished_at,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    node_id: String,
    attempt: i64,
    worker: String,
    started_at: i64,
    finished_at: i64,
    input: Option<String>,
    output: Option<String>,
    outcome: String,
    error_class: Option<String>,
    error: Option<String>,
    confidence: Option<f64>,
}

pub async fn get_attempts(conn: &mut SqliteConnection, run_id: &str) -> Result<Vec<AttemptRecord>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT node_id, attempt, worker, started_at, finished_at, input, output, outcome, error_class, error, confidence
         FROM step_attempts WHERE run_id = ? ORDER BY started_at, node_id, attempt",
    )
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AttemptRecord {
            input: json_col(r.input),
            output: json_col(r.output),
            node_id: r.node_id,
            attempt: r.attempt,
            worker: r.worker,
            started_at: r.started_at,
            finished_at: r.finished_at,
            outcome: r.outcome,
            error_class: r.error_class,
            error: r.error,
            confidence: r.confidence,
        })
        .collect())
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

/// The newest runs, with their workflow's name.
pub async fn list_recent(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<(RunRecord, String)>> {
    let ids: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.id, w.name FROM runs r JOIN workflows w ON w.id = r.workflow_id
         ORDER BY r.created_at DESC, r.id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for (id, name) in ids {
        out.push((get_run(conn, &id).await?, name));
    }
    Ok(out)
}

/// Steps that undo a completed reversible step are queued in the steps
/// table under `<node id>~compensate` (`~` never appears in a node id).
pub const COMPENSATE_SUFFIX: &str = "~compensate";

/// The node a compensation step undoes, if `step_id` is one.
pub fn compensated_node(step_id: &str) -> Option<&str> {
    step_id.strip_suffix(COMPENSATE_SUFFIX)
}

/// Succeeded steps among `nodes`, most recently finished first.
pub async fn succeeded_latest_first(
    conn: &mut SqliteConnection,
    run_id: &str,
    nodes: &[&str],
) -> Result<Vec<String>> {
    let done: Vec<(String,)> = sqlx::query_as(
        "SELECT node_id FROM steps WHERE run_id = ? AND status = 'succeeded' ORDER BY finish_seq DESC",
    )
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    Ok(done
        .into_iter()
        .map(|(n,)| n)
        .filter(|n| nodes.contains(&n.as_str()))
        .collect())
}

/// Makes the next queued compensation ready: the one undoing the latest
/// finished step, so compensations run one at a time in reverse order.
/// Returns whether there was one.
pub async fn next_compensation(
    conn: &mut SqliteConnection,
    run_id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE steps SET status = 'ready', not_before = ?2
         WHERE run_id = ?1 AND node_id = (
             SELECT c.node_id FROM steps c JOIN steps o
               ON o.run_id = c.run_id AND c.node_id = o.node_id || '~compensate'
             WHERE c.run_id = ?1 AND c.status = 'pending'
             ORDER BY o.finish_seq DESC LIMIT 1)",
    )
    .bind(run_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
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
    Ok(sqlx::query_as(
        "UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = ?3,
                lease_until = ?5, started_at = ?4
         WHERE run_id = ?1 AND node_id = ?2 AND status = 'ready'
         RETURNING run_id, node_id, attempt, parked, cum_in, input_override",
    )
    .bind(run_id)
    .bind(node_id)
    .bind(worker)
    .bind(now)
    .bind(lease_until)
    .fetch_optional(conn)
    .await?)
}
