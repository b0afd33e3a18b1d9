//! What a completion transaction tells the process's metrics, gathered
//! while it writes and counted once it has committed (a transaction that
//! rolls back counts nothing).

use crate::metrics::{self, Direction, GateResult, Kind, RunEnd, StepEnd, Workflow};
use app::domain::graph::WorkflowDef;
use app::domain::run::RunStatus;
use app::store::runs::Claimed;

/// One recorded attempt.
pub(super) struct Seen {
    kind: &'static str,
    outcome: &'static str,
    ms: i64,
    confidence: Option<f64>,
    gate: Option<&'static str>,
    tokens: Option<(u64, u64, f64)>,
}

impl Seen {
    /// `reported`: the confidence of a result the runner finished with
    /// (None when it did not finish); `escalated` when a confidence gate
    /// stopped it; `label` how the attempt ended (succeeded, failed,
    /// retrying, parked).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn of(
        def: &WorkflowDef,
        c: &Claimed,
        reported: Option<Option<f64>>,
        escalated: bool,
        label: &'static str,
        call: Option<&app::domain::llm::ModelCall>,
        started: i64,
        now: i64,
    ) -> Seen {
        let node = def.node(&c.node_id);
        let kind = match (app::store::runs::compensated_node(&c.node_id), node) {
            (Some(_), _) => "compensation",
            (None, Some(n)) => n.kind.type_name(),
            (None, None) => "unknown",
        };
        let confidence = reported.flatten();
        let threshold = node.is_some_and(|n| n.confidence_threshold.is_some())
            || def.settings.confidence_threshold.is_some();
        let gate = if escalated {
            Some("escalated")
        } else if threshold && reported.is_some() && kind != "approval" {
            Some("passed")
        } else {
            None
        };
        Seen {
            kind,
            outcome: label,
            ms: now - started,
            confidence,
            gate,
            tokens: call.map(|m| (m.tokens_in, m.tokens_out, m.cost.unwrap_or(0.0))),
        }
    }
}

/// Counts what a committed transaction of `workflow`'s run did.
pub(super) fn count(workflow: &str, seen: &[Seen], ended: Option<RunStatus>) {
    let m = metrics::get();
    for s in seen {
        m.steps
            .get_or_create(&StepEnd {
                kind: s.kind.into(),
                outcome: s.outcome.into(),
            })
            .inc();
        m.step_seconds
            .get_or_create(&Kind {
                kind: s.kind.into(),
            })
            .observe(metrics::secs(s.ms));
        if let Some(c) = s.confidence.filter(|c| c.is_finite()) {
            m.confidence.observe(c);
        }
        if let Some(result) = s.gate {
            m.gate_decisions
                .get_or_create(&GateResult {
                    result: result.into(),
                })
                .inc();
        }
        if let Some((tokens_in, tokens_out, cost)) = s.tokens {
            for (direction, n) in [("in", tokens_in), ("out", tokens_out)] {
                m.llm_tokens
                    .get_or_create(&Direction {
                        direction: direction.into(),
                    })
                    .inc_by(n);
            }
            if cost.is_finite() && cost > 0.0 {
                m.llm_cost.inc_by(cost);
            }
        }
        if s.kind == "start" && s.outcome == "succeeded" {
            m.runs_started
                .get_or_create(&Workflow {
                    workflow: workflow.into(),
                })
                .inc();
        }
    }
    if let Some(status) = ended {
        m.runs_finished
            .get_or_create(&RunEnd {
                workflow: workflow.into(),
                status: status.as_str().into(),
            })
            .inc();
    }
}
