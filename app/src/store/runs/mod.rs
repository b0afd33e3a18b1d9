//! Runs, steps (the work queue) and the per-attempt step log.

use super::{Result, StoreError};
use crate::domain::ids::RunId;
use crate::domain::machine::NodeState;
use crate::domain::run::{RunStatus, StepStatus};
use crate::domain::transitions::{Machine, RunEvent, StepEvent};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

mod attempts;
mod claim;
mod compensation;
mod ending;
mod family;
mod items;
mod leases;
mod log;
mod loops;
mod provenance;
mod queue;
mod read;
mod writes;

pub use attempts::*;
pub use claim::*;
pub use compensation::*;
pub use ending::*;
pub use family::*;
pub use items::*;
pub use leases::*;
pub use log::*;
pub use loops::*;
pub use provenance::*;
pub use queue::*;
pub use read::{RunHead, View, ViewAt, head, queue_view, view, view_at, with_steps};
pub use writes::*;

fn json_col(v: Option<String>) -> Option<Value> {
    v.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s)))
}

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} '{v}'"))
}

pub struct NewRun<'a> {
    pub id: &'a RunId,
    pub workflow_id: &'a str,
    pub version: i64,
    pub input: &'a Value,
    pub started_by: &'a str,
    pub now: i64,
    pub deadline_at: Option<i64>,
    pub rerun_of: Option<&'a str>,
    pub origin: crate::domain::run::RunOrigin,
    pub trigger_id: Option<&'a str>,
    /// (parent run, its Sub-workflow or For each step)
    pub parent: Option<(&'a str, &'a str)>,
    /// For an item run, its place in the For each's list.
    pub item: Option<&'a crate::domain::records::ItemPlace>,
    /// A chaos run's faults.
    pub chaos: Option<&'a crate::domain::chaos::ChaosPlan>,
    /// The API request's `Idempotency-Key`.
    pub idempotency_key: Option<&'a str>,
}

/// The run `key` started for the workflow, with its input.
pub async fn run_by_key(
    conn: &mut crate::store::conn::Conn,
    workflow_id: &str,
    key: &str,
) -> Result<Option<(RunId, Value)>> {
    let row: Option<(RunId, String)> = crate::store::conn::query_as(
        "SELECT id, input FROM runs WHERE workflow_id = $1 AND idempotency_key = $2",
    )
    .bind(workflow_id)
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, input)| (id, serde_json::from_str(&input).unwrap_or(Value::Null))))
}

/// Keeps where a confidence gate stopped the run: the lowest cumulative
/// confidence a gate saw (monitoring reads it; a person's decision later
/// makes the run sure, and would hide the doubt).
pub async fn note_gate(conn: &mut crate::store::conn::Conn, run_id: &str, cum: f64) -> Result<()> {
    crate::store::conn::query(
        "UPDATE runs SET gate_confidence = $2 WHERE id = $1 AND (gate_confidence IS NULL OR gate_confidence > $2)",
    )
    .bind(run_id)
    .bind(cum)
    .execute(conn)
    .await?;
    Ok(())
}

/// The insert of run `r`, numbered after its workflow's last run. On
/// PostgreSQL the transaction must hold the audit chain's lock first
/// (`audit::lock_chain`): every transaction that inserts a run appends to
/// the trail too, so that lock orders the workflow's starts while the next
/// number is read, without a lock of its own (which could wait crosswise
/// with it).
pub fn insert_run_query<'a>(r: &'a NewRun<'a>) -> crate::store::conn::Query<'a> {
    // an item run has no number of its own (it goes by its root run's)
    crate::store::conn::query(
        "INSERT INTO runs (id, workflow_id, version, status, input, started_by, created_at, deadline_at, rerun_of, origin, trigger_id, parent_run_id, parent_node_id, item_index, item_round, item_path, item_root, chaos, idempotency_key, number)
         VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 CASE WHEN $13 IS NULL THEN COALESCE(
                   (SELECT number FROM runs WHERE workflow_id = $2 AND number IS NOT NULL
                    ORDER BY number DESC LIMIT 1), 0) + 1 END)",
    )
    .bind(r.id)
    .bind(r.workflow_id)
    .bind(r.version)
    .bind(r.input.to_string())
    .bind(r.started_by)
    .bind(r.now)
    .bind(r.deadline_at)
    .bind(r.rerun_of)
    .bind(r.origin.as_str())
    .bind(r.trigger_id)
    .bind(r.parent.map(|p| p.0))
    .bind(r.parent.map(|p| p.1))
    .bind(r.item.map(|i| i.index))
    .bind(r.item.map(|i| i.round))
    .bind(r.item.map(|i| i.path.as_str()))
    .bind(r.item.map(|i| i.root.as_str()))
    .bind(r.chaos.map(|c| serde_json::to_string(c).unwrap_or_default()))
    .bind(r.idempotency_key)
}

pub async fn insert_step(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
    status: StepStatus,
    not_before: i64,
) -> Result<()> {
    // a step that is already there stays as it is (a compensation queued
    // twice must not wedge the transaction that queues it)
    crate::store::conn::query("INSERT INTO steps (run_id, node_id, status, not_before) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .bind(run_id)
        .bind(node_id)
        .bind(status.as_str())
        .bind(not_before)
        .execute(conn)
        .await?;
    Ok(())
}

/// The inserts of the steps of a new run, many rows per statement (a
/// statement is a round trip to SQLite's thread; one per step was most of
/// starting a run).
pub fn insert_steps_queries<'a>(
    run_id: &'a RunId,
    steps: &'a [(&'a str, StepStatus)],
    not_before: i64,
) -> impl Iterator<Item = crate::store::conn::Query<'a>> {
    // 4 parameters a row, well below SQLite's limit of 32,766 a statement
    steps.chunks(1_000).map(move |chunk| {
        let sql = format!(
            "INSERT INTO steps (run_id, node_id, status, not_before) VALUES {}",
            crate::store::conn::values(chunk.len(), 4)
        );
        let mut q = crate::store::conn::query(sql);
        for (node_id, status) in chunk {
            q = q
                .bind(run_id)
                .bind(*node_id)
                .bind(status.as_str())
                .bind(not_before);
        }
        q
    })
}

/// How a run ended.
#[derive(Clone)]
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

/// The machine's view of a run's steps.
pub async fn node_states(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
) -> Result<BTreeMap<String, NodeState>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        node_id: String,
        status: String,
        port: Option<String>,
        cum_confidence: Option<f64>,
        pass: i64,
        lap: i64,
    }
    let rows: Vec<Row> = crate::store::conn::query_as(
        "SELECT node_id, status, port, cum_confidence, pass, lap FROM steps WHERE run_id = $1",
    )
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let status =
                StepStatus::parse(&r.status).ok_or_else(|| corrupt("step status", &r.status))?;
            Ok((
                r.node_id,
                NodeState {
                    status,
                    port: r.port,
                    cum_confidence: r.cum_confidence,
                    pass: r.pass.max(0) as u32,
                    lap: r.lap.max(0) as u32,
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
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
) -> Result<StepResult> {
    let (output, cum_confidence, error_class, error): (Option<String>, Option<f64>, Option<String>, Option<String>) =
        crate::store::conn::query_as(
            "SELECT output, cum_confidence, error_class, error FROM steps WHERE run_id = $1 AND node_id = $2",
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

static RETRY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE steps SET {}, not_before = $3, port = NULL, error = NULL, error_class = NULL,
                finished_at = NULL, finish_seq = NULL, input_override = $4, lost = 0
         WHERE run_id = $1 AND node_id = $2 AND {}",
        StepEvent::Retry.set("status"),
        StepEvent::Retry.guard("status")
    )
});

static RESUME: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE steps SET {}, finished_at = NULL WHERE run_id = $1 AND {}",
        StepEvent::Resume.set("status"),
        StepEvent::Resume.guard("status")
    )
});

static REOPEN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE runs SET {}, error = NULL, finished_at = NULL, output = NULL, deadline_at = $2
         WHERE id = $1 AND {}",
        RunEvent::Reopen.set("status"),
        RunEvent::Reopen.guard("status")
    )
});

/// Makes a failed step ready again (with an optional context given by a
/// person), returns the steps its failure cancelled to pending, and reopens
/// the failed run with a fresh deadline (`deadline_at`, from its timeout).
/// Moves a run to another version of its workflow (a retry on the latest
/// version; the caller checked that it has the same steps).
pub async fn set_version(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    version: i64,
) -> Result<()> {
    crate::store::conn::query("UPDATE runs SET version = $1 WHERE id = $2")
        .bind(version)
        .bind(run_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The caller checked that the retry applies (`domain::operations::retry`);
/// a step or run elsewhere is a conflict.
pub async fn reopen_for_retry(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
    input: Option<&Value>,
    deadline_at: Option<i64>,
    now: i64,
) -> Result<()> {
    let step = crate::store::conn::query(&RETRY)
        .bind(run_id)
        .bind(node_id)
        .bind(now)
        .bind(input.map(Value::to_string))
        .execute(&mut *conn)
        .await?;
    let run = crate::store::conn::query(&REOPEN)
        .bind(run_id)
        .bind(deadline_at)
        .execute(&mut *conn)
        .await?;
    if step.rows_affected() != 1 || run.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!(
            "step '{node_id}' of run '{run_id}' is not a failed step of a failed run"
        )));
    }
    crate::store::conn::query(&RESUME)
        .bind(run_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Where a run stands, in one small query (for a caller that waits on it).
#[derive(Clone, Debug, PartialEq)]
pub struct Brief {
    pub status: crate::domain::run::RunStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    /// An approval item of the run waits for people.
    pub awaiting_people: bool,
}

pub async fn brief(conn: &mut crate::store::conn::Conn, id: &str) -> Result<Brief> {
    let row: (String, Option<String>, Option<String>, bool) = crate::store::conn::query_as(
        "SELECT r.status, r.output, r.error,
                EXISTS (SELECT 1 FROM approval_items a WHERE a.run_id = r.id AND a.status = 'pending')
         FROM runs r WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(Brief {
        status: crate::domain::run::RunStatus::parse(&row.0)
            .ok_or_else(|| corrupt("run status", &row.0))?,
        output: row.1.and_then(|o| serde_json::from_str(&o).ok()),
        error: row.2,
        awaiting_people: row.3,
    })
}
