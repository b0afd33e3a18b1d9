//! A chaos run's fault for one attempt: its latency, a failure instead of
//! the step, the attempt lost as a dead process's, or the confidence
//! lowered after (the decision is `app::domain::chaos`'s).

use super::runners::Outcome;
use app::domain::chaos::{Fault, Injected};
use app::domain::graph::ErrorClass;
use app::domain::records::{RunRecord, StepRecord};
use app::store::runs::Claimed;
use std::time::Duration;

/// What the plan injects into this attempt.
#[derive(Clone, Copy)]
pub(super) struct Chaos {
    seed: u64,
    injected: Injected,
}

/// The fault for attempt `c` of `node` in `run`, when `run` is a chaos run
/// and the step takes faults.
pub(super) fn decide(
    run: &RunRecord,
    node: &app::domain::Node,
    steps: &[StepRecord],
    c: &Claimed,
) -> Option<Chaos> {
    let plan = run.chaos.as_ref()?;
    if !app::domain::chaos::injectable(&node.kind) {
        return None;
    }
    let pass = steps
        .iter()
        .find(|s| s.node_id == c.node_id)
        .map_or(0, |s| s.pass);
    let place = match &run.item {
        Some(i) => format!("{}@{pass}", i.path),
        None => format!("@{pass}"),
    };
    Some(Chaos {
        seed: plan.seed,
        injected: plan.inject(&c.node_id, &place, c.attempt),
    })
}

impl Chaos {
    /// Waits the injected latency.
    pub(super) async fn delay(&self) {
        if self.injected.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.injected.latency_ms.into())).await;
        }
    }

    /// Whether the attempt is lost as a dead process's would be.
    pub(super) fn dies(&self) -> bool {
        self.injected.fault == Some(Fault::Death)
    }

    /// The failure that replaces the step's work.
    pub(super) fn instead(&self) -> Option<Outcome> {
        match self.injected.fault? {
            f @ Fault::Transient => {
                Some(Outcome::fail(ErrorClass::Transient, f.describe(self.seed)))
            }
            f @ Fault::Business => Some(Outcome::fail(ErrorClass::Business, f.describe(self.seed))),
            _ => None,
        }
    }

    /// The step's outcome, its confidence lowered by a low-confidence fault.
    pub(super) fn after(&self, outcome: Outcome) -> Outcome {
        match self.injected.fault {
            Some(Fault::LowConfidence(low)) => outcome.with_confidence(low),
            _ => outcome,
        }
    }
}
