//! Moving a run forward inside a transaction: after a step finishes, apply
//! the machine's decisions (ready / skipped successors), and close the run
//! when nothing is left to do. Shared by the engine and by the operations
//! that change runs by hand (retry, cancel).

use crate::domain::audit::NewAuditEvent;
use crate::domain::graph::{NodeKind, WorkflowDef};
use crate::domain::machine::{Change, NodeState, RunOutcome, outcome, settle};
use crate::domain::run::{RunStatus, StepStatus};
use crate::store::{Result, audit, runs};
use serde_json::{Value, json};
use sqlx::SqliteConnection;
use std::collections::BTreeMap;

/// The machine's view of a run's steps, as stored.
pub async fn load_states(
    conn: &mut SqliteConnection,
    run_id: &str,
) -> Result<BTreeMap<String, NodeState>> {
    let rows: Vec<(String, String, Option<String>, Option<f64>)> =
        sqlx::query_as("SELECT node_id, status, port, cum_confidence FROM steps WHERE run_id = ?")
            .bind(run_id)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(node, status, port, cum)| {
            Some((
                node,
                NodeState {
                    status: StepStatus::parse(&status)?,
                    port,
                    cum_confidence: cum,
                },
            ))
        })
        .collect())
}

/// After `finished` steps reached a final state: resolve their successors
/// and, if the run is over, record how it ended. Returns the run's new
/// status when it closed.
pub async fn advance(
    conn: &mut SqliteConnection,
    def: &WorkflowDef,
    run_id: &str,
    finished: &[&str],
    actor: &str,
    now: i64,
) -> Result<Option<RunStatus>> {
    let states = load_states(conn, run_id).await?;
    for change in settle(def, &states, finished) {
        match change {
            Change::Activate { node, cum_in } => {
                runs::resolve_pending(conn, run_id, &node, StepStatus::Ready, cum_in, now).await?
            }
            Change::Skip { node } => {
                runs::resolve_pending(conn, run_id, &node, StepStatus::Skipped, 1.0, now).await?
            }
        }
    }
    let states = load_states(conn, run_id).await?;
    match outcome(def, &states) {
        RunOutcome::Open => Ok(None),
        RunOutcome::Succeeded { ends } => {
            let (output, confidence) = end_output(conn, run_id, &ends).await?;
            close(
                conn,
                run_id,
                RunStatus::Succeeded,
                Some(&output),
                None,
                confidence,
                actor,
                now,
            )
            .await
        }
        RunOutcome::Failed { node, reason } => {
            let reason = match &node {
                Some(n) => failure_reason(conn, run_id, n).await?.unwrap_or(reason),
                None => reason,
            };
            runs::cancel_open_steps(conn, run_id, now).await?;
            close(
                conn,
                run_id,
                RunStatus::Failed,
                None,
                Some(&reason),
                None,
                actor,
                now,
            )
            .await
        }
    }
}

/// Fails a running run: its open steps are cancelled and the failure is
/// audited. Returns false if the run had already ended.
pub async fn fail(
    conn: &mut SqliteConnection,
    run_id: &str,
    reason: &str,
    actor: &str,
    now: i64,
) -> Result<bool> {
    runs::cancel_open_steps(conn, run_id, now).await?;
    Ok(close(
        conn,
        run_id,
        RunStatus::Failed,
        None,
        Some(reason),
        None,
        actor,
        now,
    )
    .await?
    .is_some())
}

async fn failure_reason(
    conn: &mut SqliteConnection,
    run_id: &str,
    node: &str,
) -> Result<Option<String>> {
    let err: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT error_class, error FROM steps WHERE run_id = ? AND node_id = ?")
            .bind(run_id)
            .bind(node)
            .fetch_optional(conn)
            .await?;
    Ok(err.and_then(|(class, msg)| {
        msg.map(|m| match class {
            Some(c) => format!("step '{node}' failed ({c}): {m}"),
            None => format!("step '{node}' failed: {m}"),
        })
    }))
}

/// The run's output: the End's output, or an object keyed by End id when
/// parallel paths reached several Ends. Confidence: the weakest End.
async fn end_output(
    conn: &mut SqliteConnection,
    run_id: &str,
    ends: &[String],
) -> Result<(Value, Option<f64>)> {
    let mut outputs = serde_json::Map::new();
    let mut confidence: Option<f64> = None;
    for end in ends {
        let (out, cum): (Option<String>, Option<f64>) = sqlx::query_as(
            "SELECT output, cum_confidence FROM steps WHERE run_id = ? AND node_id = ?",
        )
        .bind(run_id)
        .bind(end)
        .fetch_one(&mut *conn)
        .await?;
        let v = out
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null);
        outputs.insert(end.clone(), v);
        if let Some(c) = cum {
            confidence = Some(confidence.map_or(c, |x| x.min(c)));
        }
    }
    let output = if outputs.len() == 1 {
        outputs
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or(Value::Null)
    } else {
        Value::Object(outputs)
    };
    Ok((output, confidence))
}

#[allow(clippy::too_many_arguments)]
async fn close(
    conn: &mut SqliteConnection,
    run_id: &str,
    status: RunStatus,
    output: Option<&Value>,
    error: Option<&str>,
    confidence: Option<f64>,
    actor: &str,
    now: i64,
) -> Result<Option<RunStatus>> {
    if !runs::finish_run(conn, run_id, status, output, error, confidence, now).await? {
        return Ok(None);
    }
    let details = match error {
        Some(e) => json!({"error": e}),
        None => json!({"confidence": confidence}),
    };
    audit::append(
        conn,
        &NewAuditEvent {
            at: now,
            actor: actor.into(),
            action: format!("run.{status}"),
            entity: format!("run:{run_id}"),
            run_id: Some(run_id.into()),
            details,
        },
    )
    .await?;
    Ok(Some(status))
}

/// Whether a failure of this node can be caught by an `error` edge.
pub fn has_error_edge(def: &WorkflowDef, node: &str) -> bool {
    def.edges
        .iter()
        .any(|e| e.from == node && e.port == crate::domain::PORT_ERROR)
}

/// Whether the node is an End (its output becomes the run's).
pub fn is_end(def: &WorkflowDef, node: &str) -> bool {
    matches!(def.node(node).map(|n| &n.kind), Some(NodeKind::End { .. }))
}
