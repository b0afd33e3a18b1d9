//! Moving a run forward inside a transaction: after a step finishes, apply
//! the machine's decisions (ready / skipped successors), and close the run
//! when nothing is left to do. Shared by the engine and by the operations
//! that change runs by hand (retry, cancel).

use crate::domain::audit::NewAuditEvent;
use crate::domain::graph::WorkflowDef;
use crate::domain::ids::RunId;
use crate::domain::machine::{Change, RunOutcome, outcome, settle};
use crate::domain::run::{RunStatus, StepStatus};
use crate::domain::transitions::{Machine, StepEvent};
use crate::store::runs::{self, RunEnd};
use crate::store::{Result, audit};
use serde_json::{Value, json};

/// The step states of one run as the machine sees them, by node id.
pub type States = std::collections::BTreeMap<String, crate::domain::machine::NodeState>;

/// What `advance_from` did.
#[derive(Debug, Default)]
pub struct Advanced {
    /// The run's new status, when it closed.
    pub ended: Option<RunStatus>,
    /// Successors made ready (due now), as a claim in this transaction
    /// would take them.
    pub ready: Vec<runs::Activated>,
}

/// After `finished` steps reached a final state: resolve their successors
/// and, if the run is over, record how it ended. Returns the run's new
/// status when it closed.
pub async fn advance(
    conn: &mut crate::store::conn::Conn,
    def: &WorkflowDef,
    run_id: &RunId,
    finished: &[&str],
    actor: &str,
    now: i64,
) -> Result<Option<RunStatus>> {
    let mut states = runs::node_states(conn, run_id).await?;
    Ok(
        advance_from(conn, def, run_id, &mut states, finished, actor, now, None)
            .await?
            .ended,
    )
}

/// `advance` from states the caller already holds (and keeps current: the
/// changes made here are applied to them), which saves reading every step
/// of the run again after each step of a long pure stretch. With `writes`,
/// the successors' changes are kept there (and written before the run's
/// end is read and recorded).
#[allow(clippy::too_many_arguments)]
pub async fn advance_from(
    conn: &mut crate::store::conn::Conn,
    def: &WorkflowDef,
    run_id: &RunId,
    states: &mut States,
    finished: &[&str],
    actor: &str,
    now: i64,
    mut writes: Option<&mut runs::StepWrites>,
) -> Result<Advanced> {
    let mut ready = vec![];
    // a step that went back to its loop's entry starts the next pass
    let mut settled: Vec<String> = finished.iter().map(|f| f.to_string()).collect();
    for f in finished {
        match crate::ops::loops::go_round(conn, def, run_id, states, f, now).await? {
            crate::ops::loops::Round::No => {}
            crate::ops::loops::Round::Again(activated) => ready.extend(activated),
            crate::ops::loops::Round::Exhausted(entry) => settled.push(entry),
            crate::ops::loops::Round::Spent(reason) => {
                let end = RunEnd::failed(RunStatus::Failed, reason);
                if !end_run(conn, run_id, &end, actor, now).await? {
                    return Ok(Advanced { ended: None, ready });
                }
                compensate(conn, def, run_id, now).await?;
                return Ok(Advanced {
                    ended: Some(RunStatus::Failed),
                    ready,
                });
            }
        }
    }
    let settled: Vec<&str> = settled.iter().map(String::as_str).collect();
    for change in settle(def, states, &settled) {
        let (node, event, cum_in) = match change {
            Change::Activate { node, cum_in } => (node, StepEvent::Activate, cum_in),
            Change::Skip { node } => (node, StepEvent::Skip, 1.0),
        };
        let status = event.target();
        let kept = writes
            .as_deref_mut()
            .and_then(|w| w.resolve(&node, event, cum_in, now));
        let activated = match kept {
            Some(activated) => activated,
            None => {
                if let Some(w) = writes.as_deref_mut() {
                    w.ensure_written(conn).await?;
                }
                runs::resolve_pending(conn, run_id, &node, event, cum_in, now).await?
            }
        };
        // Keep the in-memory view in step with what was just written.
        if let Some(s) = states.get_mut(&node) {
            s.status = status;
        }
        ready.extend(activated);
    }
    let end = match outcome(def, states) {
        RunOutcome::Open => {
            return Ok(Advanced { ended: None, ready });
        }
        // what ends the run is read from the steps (or from what was just
        // written of them), and ending changes them
        // (the changes kept are written with the run's end, below)
        RunOutcome::Succeeded { ends } => {
            // an End's result not kept here is read from its row
            if let Some(w) = writes.as_deref_mut()
                && ends.iter().any(|e| w.result(e).is_none())
            {
                w.ensure_written(conn).await?;
            }
            let (output, confidence) = end_output(conn, run_id, &ends, writes.as_deref()).await?;
            RunEnd {
                status: RunStatus::Succeeded,
                output: Some(output),
                error: None,
                confidence,
            }
        }
        RunOutcome::Failed { node, reason } => {
            if let Some(w) = writes.as_deref_mut() {
                w.flush(conn).await?;
            }
            let reason = match &node {
                Some(n) => failure_reason(conn, run_id, n).await?.unwrap_or(reason),
                None => reason,
            };
            RunEnd::failed(RunStatus::Failed, reason)
        }
    };
    let status = end.status;
    if !end_run_as(conn, run_id, &end, actor, now, true, writes).await? {
        return Ok(Advanced { ended: None, ready });
    }
    if status == RunStatus::Failed {
        compensate(conn, def, run_id, now).await?;
    }
    Ok(Advanced {
        ended: Some(status),
        ready,
    })
}

/// After a run failed: queue the compensation of every completed reversible
/// step, to run one at a time in reverse order of completion. Returns how
/// many were queued.
pub async fn compensate(
    conn: &mut crate::store::conn::Conn,
    def: &WorkflowDef,
    run_id: &RunId,
    now: i64,
) -> Result<usize> {
    let reversible: Vec<&str> = def
        .nodes
        .iter()
        .filter(|n| n.reversible && n.compensation.is_some())
        .map(|n| n.id.as_str())
        .collect();
    if reversible.is_empty() {
        return Ok(0);
    }
    let done = runs::succeeded_latest_first(conn, run_id, &reversible).await?;
    for node in &done {
        let step = format!("{node}{}", runs::COMPENSATE_SUFFIX);
        runs::insert_step(conn, run_id, &step, StepStatus::Pending, now).await?;
    }
    runs::next_compensation(conn, run_id, now).await?;
    if !done.is_empty() {
        let details = json!({"steps": done});
        audit::append(
            conn,
            &NewAuditEvent::run(now, "engine", "run.compensating", run_id, details),
        )
        .await?;
    }
    Ok(done.len())
}

/// Ends a running run: the run records how it ended, its open steps are
/// cancelled, its undecided approval items are closed as cancelled, and an
/// audit event `run.<status>` is written. Returns false (and changes
/// nothing) if the run had already ended.
pub async fn end_run(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    end: &RunEnd,
    actor: &str,
    now: i64,
) -> Result<bool> {
    end_run_as(conn, run_id, end, actor, now, true, None).await
}

/// `end_run` for a run whose parent already knows: a child cancelled
/// because its parent ended, an item cancelled by its For each.
pub async fn end_run_quietly(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    end: &RunEnd,
    actor: &str,
    now: i64,
) -> Result<bool> {
    end_run_as(conn, run_id, end, actor, now, false, None).await
}

/// `end_run`, writing first the step changes `writes` keeps.
async fn end_run_as(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    end: &RunEnd,
    actor: &str,
    now: i64,
    tell_parent: bool,
    writes: Option<&mut runs::StepWrites>,
) -> Result<bool> {
    let Some(ended) = runs::finish_run(conn, run_id, end, now, writes).await? else {
        return Ok(false);
    };
    if ended.open_steps {
        runs::cancel_open_steps(conn, run_id, now).await?;
    }
    let closed = match ended.open_items {
        true => crate::store::approvals::cancel_open(conn, run_id, now).await?,
        false => 0,
    };
    if closed > 0 {
        let details = json!({"items": closed, "reason": format!("the run {}", end.status)});
        audit::append(
            conn,
            &NewAuditEvent::run(now, actor, "approval.cancelled", run_id, details),
        )
        .await?;
    }
    let details = match &end.error {
        Some(e) => json!({"error": e}),
        None => json!({"confidence": end.confidence}),
    };
    let action = format!("run.{}", end.status);
    audit::append(
        conn,
        &NewAuditEvent::run(now, actor, &action, run_id, details),
    )
    .await?;
    // a parent's step waits for this run: a Sub-workflow step looks now;
    // a For each starts its next item or, with its list done, looks now
    if let (true, Some((parent, node, round))) = (tell_parent, ended.parent) {
        match round {
            Some(round) => {
                Box::pin(crate::ops::foreach::fill(conn, &parent, &node, round, now)).await?
            }
            None => crate::store::approvals::wake_step(conn, &parent, &node, now).await?,
        }
    }
    // children end with their parent
    let children = match ended.running_children {
        true => runs::running_children(conn, run_id).await?,
        false => vec![],
    };
    for child in children {
        let why = RunEnd::failed(
            RunStatus::Cancelled,
            format!("its parent run {run_id} ended ({})", end.status),
        );
        Box::pin(end_run_quietly(conn, &child, &why, actor, now)).await?;
    }
    Ok(true)
}

async fn failure_reason(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node: &str,
) -> Result<Option<String>> {
    let step = runs::step_result(conn, run_id, node).await?;
    Ok(step.error.map(|m| match step.error_class {
        Some(c) => format!("step '{node}' failed ({c}): {m}"),
        None => format!("step '{node}' failed: {m}"),
    }))
}

/// The run's output: the End's output, or an object keyed by End id when
/// parallel paths reached several Ends. Confidence: the weakest End.
async fn end_output(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    ends: &[String],
    written: Option<&runs::StepWrites>,
) -> Result<(Value, Option<f64>)> {
    let mut outputs = serde_json::Map::new();
    let mut confidence: Option<f64> = None;
    for end in ends {
        let step = match written.and_then(|w| w.result(end)) {
            Some(step) => step,
            None => runs::step_result(conn, run_id, end).await?,
        };
        outputs.insert(end.clone(), step.output.unwrap_or(Value::Null));
        if let Some(c) = step.cum_confidence {
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

/// Whether a failure of this node can be caught by an `error` edge.
pub fn has_error_edge(def: &WorkflowDef, node: &str) -> bool {
    def.edges
        .iter()
        .any(|e| e.from == node && e.port == crate::domain::PORT_ERROR)
}
