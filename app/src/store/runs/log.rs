//! Reading runs back, and the per-attempt step log.

use super::{Claimed, corrupt, json_col};
use crate::domain::records::{AttemptRecord, RunRecord, StepRecord};
use crate::domain::run::{RunStatus, StepStatus};
use crate::store::{Result, StoreError};
use serde_json::Value;
use sqlx::SqliteConnection;

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
