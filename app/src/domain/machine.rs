//! How a run moves through its graph: which steps become ready or skipped
//! when another finishes, when a run is over, how failures are retried, and
//! how confidence accumulates. Pure: the engine feeds it the stored state.
//!
//! Paths: an edge is *taken* when its source finished through the edge's
//! port, *dead* when its source finished any other way (or was skipped),
//! and *open* otherwise. A node starts once none of its incoming edges is
//! open and at least one was taken; if all are dead it is skipped, which
//! kills its own outgoing edges in turn. So a Join (or any node with several
//! incoming edges) waits for every path that can still reach it and never
//! hangs on a branch that was not taken.

use super::graph::{NodeKind, RetryPolicy, WorkflowDef};
use super::run::StepStatus;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// What the machine needs to know about one step.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeState {
    pub status: StepStatus,
    /// The port it finished through (`error` for a handled failure).
    pub port: Option<String>,
    pub cum_confidence: Option<f64>,
    /// How many passes it ran before this one (0 outside loops).
    pub pass: u32,
    /// For a loop's entry: the passes of its loop since it was last entered
    /// from outside (an outer loop going round starts it afresh).
    pub lap: u32,
}

impl NodeState {
    pub fn new(status: StepStatus) -> Self {
        NodeState {
            status,
            port: None,
            cum_confidence: None,
            pass: 0,
            lap: 0,
        }
    }

    /// A step's state as its record shows it, but for its loop's lap (0):
    /// a loop going round is decided where the steps' rows are read.
    pub fn of_record(s: &super::records::StepRecord) -> Self {
        NodeState {
            status: s.status,
            port: s.port.clone(),
            cum_confidence: s.cum_confidence,
            pass: s.pass.max(0) as u32,
            lap: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Becomes ready; `cum_in` is the cumulative confidence it starts from.
    Activate {
        node: String,
        cum_in: f64,
    },
    Skip {
        node: String,
    },
}

enum EdgeState {
    Taken(f64),
    Dead,
    Open,
}

fn edge_state(from: Option<&NodeState>, port: &str) -> EdgeState {
    let Some(s) = from else {
        return EdgeState::Open;
    };
    match s.status {
        StepStatus::Succeeded | StepStatus::Failed if s.port.as_deref() == Some(port) => {
            EdgeState::Taken(s.cum_confidence.unwrap_or(1.0))
        }
        // An unhandled failure ends the run; what follows it is cancelled,
        // not skipped, so a retry of the step can carry on from there.
        StepStatus::Failed if s.port.is_none() => EdgeState::Open,
        status if status.is_final() => EdgeState::Dead,
        _ => EdgeState::Open,
    }
}

/// Decides the pending nodes downstream of `finished`, cascading skips.
/// The caller applies the changes in order.
pub fn settle(
    def: &WorkflowDef,
    states: &BTreeMap<String, NodeState>,
    finished: &[&str],
) -> Vec<Change> {
    // an edge back to a loop's entry starts a new pass (`repeat`); it
    // never holds the entry back nor skips it
    let back = def.back_edges();
    let edges = || live_edges(def, &back);
    let outgoing = |from: &str| -> Vec<&str> {
        edges()
            .filter(|e| e.from == from)
            .map(|e| e.to.as_str())
            .collect()
    };
    // what this call decided so far, over `states` (read, never copied:
    // this runs for every step that finishes)
    let mut decided: HashMap<&str, StepStatus> = HashMap::new();
    let mut queue: VecDeque<&str> = finished.iter().flat_map(|f| outgoing(f)).collect();
    let mut changes = Vec::new();
    while let Some(node) = queue.pop_front() {
        let status = decided
            .get(node)
            .copied()
            .or_else(|| states.get(node).map(|s| s.status));
        if status != Some(StepStatus::Pending) {
            continue;
        }
        let mut taken: Option<f64> = None;
        let mut open = false;
        for e in edges().filter(|e| e.to == node) {
            let state = match decided.get(e.from.as_str()) {
                // made ready by this call: not finished yet
                Some(StepStatus::Ready) => EdgeState::Open,
                Some(_) => EdgeState::Dead,
                None => edge_state(states.get(&e.from), &e.port),
            };
            match state {
                EdgeState::Open => open = true,
                // Where paths meet, the weakest path bounds what follows.
                EdgeState::Taken(c) => taken = Some(taken.map_or(c, |t: f64| t.min(c))),
                EdgeState::Dead => {}
            }
        }
        if open {
            continue;
        }
        match taken {
            Some(cum_in) => {
                decided.insert(node, StepStatus::Ready);
                changes.push(Change::Activate {
                    node: node.to_string(),
                    cum_in,
                });
            }
            None => {
                decided.insert(node, StepStatus::Skipped);
                changes.push(Change::Skip {
                    node: node.to_string(),
                });
                queue.extend(outgoing(node));
            }
        }
    }
    changes
}

/// The edges that are not back to a loop's entry.
fn live_edges<'d>(
    def: &'d WorkflowDef,
    back: &'d std::collections::BTreeSet<usize>,
) -> impl Iterator<Item = &'d super::graph::Edge> + 'd {
    def.edges
        .iter()
        .enumerate()
        .filter(|(i, _)| !back.contains(i))
        .map(|(_, e)| e)
}

/// What taking an edge back to a loop's entry does.
#[derive(Clone, Debug, PartialEq)]
pub enum Repeat {
    /// The loop goes round (its lap `lap`, 0-based): the entry becomes
    /// ready, the rest of `body` waits again (each keeps what it produced
    /// in the passes before; an inner loop's entry starts its laps afresh),
    /// and so do the skipped steps in `after`.
    Again {
        entry: String,
        lap: u32,
        body: Vec<String>,
        after: Vec<String>,
    },
    /// The passes are used up: the entry leaves through `exhausted`; the
    /// steps on that way that earlier passes skipped wait again (`reopen`).
    Exhausted { entry: String, reopen: Vec<String> },
    /// ... and nothing is connected there: the run fails saying so.
    Spent { entry: String, reason: String },
}

/// Whether `finished` just took an edge back to a loop's entry, and what
/// follows.
pub fn repeat(
    def: &WorkflowDef,
    states: &BTreeMap<String, NodeState>,
    finished: &str,
) -> Option<Repeat> {
    let s = states.get(finished)?;
    if !matches!(s.status, StepStatus::Succeeded | StepStatus::Failed) {
        return None;
    }
    let port = s.port.as_deref()?;
    let back = def.back_edges();
    let edge = def
        .edges
        .iter()
        .enumerate()
        .find(|(i, e)| back.contains(i) && e.from == finished && e.port == port)
        .map(|(_, e)| e)?;
    let entry = def.node(&edge.to)?;
    let max = entry.max_iterations.unwrap_or(1).max(1);
    let lap = states.get(&entry.id).map_or(0, |s| s.lap);
    if lap + 1 >= max {
        let exits = def
            .edges
            .iter()
            .any(|e| e.from == entry.id && e.port == super::graph::PORT_EXHAUSTED);
        return Some(if exits {
            let targets: std::collections::BTreeSet<String> = def
                .edges
                .iter()
                .filter(|e| e.from == entry.id && e.port == super::graph::PORT_EXHAUSTED)
                .map(|e| e.to.clone())
                .collect();
            let reopen = def
                .downstream(&targets)
                .into_iter()
                .chain(targets.iter().cloned())
                .filter(|n| {
                    states
                        .get(n)
                        .is_some_and(|s| s.status == StepStatus::Skipped)
                })
                .collect();
            Repeat::Exhausted {
                entry: entry.id.clone(),
                reopen,
            }
        } else {
            Repeat::Spent {
                entry: entry.id.clone(),
                reason: format!(
                    "the loop at step '{}' ran all its {max} passes (max_iterations) and '{finished}' asked for another; connect its 'exhausted' port to go on from there",
                    entry.id
                ),
            }
        });
    }
    let body = def.loop_body(&entry.id, finished);
    let after = def
        .downstream(&body)
        .into_iter()
        .filter(|n| {
            states
                .get(n)
                .is_some_and(|s| s.status == StepStatus::Skipped)
        })
        .collect();
    Some(Repeat::Again {
        entry: entry.id.clone(),
        lap: lap + 1,
        body: body.into_iter().collect(),
        after,
    })
}

#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    /// Steps are still pending, ready, running or waiting.
    Open,
    /// Finished; the End nodes that were reached.
    Succeeded { ends: Vec<String> },
    /// A step failed with nowhere to go.
    Failed {
        node: Option<String>,
        reason: String,
    },
}

/// Whether the run is over, and how.
pub fn outcome(def: &WorkflowDef, states: &BTreeMap<String, NodeState>) -> RunOutcome {
    // asked after every step: an open run without an unhandled failure
    // (the usual answer) is told without looking up each node
    let unhandled = |s: &NodeState| s.status == StepStatus::Failed && s.port.is_none();
    let failed = states.values().any(unhandled);
    if !failed && states.values().any(|s| s.status.is_open()) {
        return RunOutcome::Open;
    }
    // the first in the graph's order, as the run's failure names it
    for n in def.nodes.iter().filter(|_| failed) {
        if let Some(s) = states.get(&n.id)
            && unhandled(s)
        {
            return RunOutcome::Failed {
                node: Some(n.id.clone()),
                reason: format!("step '{}' failed", n.id),
            };
        }
    }
    if states.values().any(|s| s.status.is_open()) {
        return RunOutcome::Open;
    }
    let ends: Vec<String> = def
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::End { .. }))
        .filter(|n| states.get(&n.id).map(|s| s.status) == Some(StepStatus::Succeeded))
        .map(|n| n.id.clone())
        .collect();
    if ends.is_empty() {
        RunOutcome::Failed {
            node: None,
            reason: "the run ended without reaching an End".into(),
        }
    } else {
        RunOutcome::Succeeded { ends }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AfterFailure {
    Retry { delay_ms: u64 },
    GiveUp,
}

/// After attempt number `attempt` (1-based) failed: try again or give up.
/// `rand01` in [0, 1) spreads retries of many runs apart (jitter).
pub fn after_failure(policy: &RetryPolicy, attempt: u32, rand01: f64) -> AfterFailure {
    if attempt >= policy.max_attempts {
        return AfterFailure::GiveUp;
    }
    AfterFailure::Retry {
        delay_ms: backoff_ms(policy, attempt, rand01),
    }
}

/// initial × multiplier^(attempt−1), capped, then shortened by up to
/// `jitter` of itself (so the cap is never exceeded).
pub fn backoff_ms(policy: &RetryPolicy, attempt: u32, rand01: f64) -> u64 {
    let exp = policy
        .multiplier
        .max(1.0)
        .powi(attempt.saturating_sub(1).min(64) as i32);
    let base = (policy.initial_delay_ms as f64 * exp).min(policy.max_delay_ms as f64);
    let cut = policy.jitter.clamp(0.0, 1.0) * rand01.clamp(0.0, 1.0);
    (base * (1.0 - cut)).round() as u64
}

/// The longest `Retry-After` honoured: a server asking for more is waited
/// for this long (a hostile or broken one cannot park a step for a year).
pub const MAX_RETRY_AFTER_MS: u64 = 3_600_000;

/// The delay before the next attempt: the policy's backoff, or longer when
/// the server asked for longer (`Retry-After`, at most an hour).
pub fn honour_retry_after(backoff_ms: u64, retry_after_ms: Option<u64>) -> u64 {
    retry_after_ms.map_or(backoff_ms, |r| backoff_ms.max(r.min(MAX_RETRY_AFTER_MS)))
}

/// Cumulative confidence after a step that reported `own` (none counts as 1).
pub fn cumulative(cum_in: f64, own: Option<f64>) -> f64 {
    cum_in * own.unwrap_or(1.0).clamp(0.0, 1.0)
}

/// Why a step's result must wait for a person: its own confidence, or
/// the run's cumulative confidence with it, is below the threshold (the
/// node's, else the workflow's). A confidence of exactly 1 is a person's
/// (or a certainty) and never waits.
pub fn gate(
    own: Option<f64>,
    cum_in: f64,
    node_threshold: Option<f64>,
    workflow_threshold: Option<f64>,
) -> Option<String> {
    let own = own.filter(|c| *c < 1.0)?;
    let threshold = node_threshold.or(workflow_threshold)?;
    let cum = cumulative(cum_in, Some(own));
    if own < threshold {
        Some(format!(
            "the step reported confidence {own:.3}, below the threshold {threshold}"
        ))
    } else if cum < threshold {
        Some(format!(
            "the run's cumulative confidence {cum_in:.3} × {own:.3} = {cum:.3} is below the threshold {threshold}"
        ))
    } else {
        None
    }
}

/// The run context expressions and templates see.
pub fn context<'a>(
    input: &Value,
    outputs: impl IntoIterator<Item = (&'a str, &'a Value, Option<f64>)>,
) -> Value {
    let steps: Map<String, Value> = outputs
        .into_iter()
        .map(|(id, output, confidence)| {
            (
                id.to_string(),
                json!({"output": output, "confidence": confidence}),
            )
        })
        .collect();
    json!({"input": input, "steps": steps})
}

/// Puts a step's output in a run context, keeping what its loop's earlier
/// passes produced (`iterations`).
pub fn set_output(ctx: &mut Value, id: &str, output: &Value, confidence: Option<f64>) {
    let entry = &mut ctx["steps"][id];
    if !entry.is_object() {
        *entry = json!({});
    }
    entry["output"] = output.clone();
    entry["confidence"] = json!(confidence);
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
