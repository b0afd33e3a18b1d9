//! Evaluating a run's pure stretch ahead, outside the write lock.
//!
//! When a step finishes, the pure steps it makes ready (and the ones those
//! make ready, and so on) used to run inside the completing transaction.
//! Their expressions are user logic, which must never run while the
//! database's write lock is held. So the worker first walks the stretch on
//! its own copy of the run's state, with the machine's pure functions,
//! evaluating each step in the sandbox; the completion then only records
//! those results. Each result is used only if the step comes up in the
//! transaction with exactly the context it was evaluated over (the same
//! set of earlier outputs, [`Sig`]); anything that went differently (a
//! parallel step finished meanwhile, a confidence gate stopped the run)
//! ends the stretch there, and the rest waits in the queue for a worker,
//! as it would after [`super::MAX_INLINE_STEPS`].

use super::runners::{self, Outcome};
use super::{Engine, MAX_INLINE_STEPS};
use app::domain::graph::WorkflowDef;
use app::domain::machine::{Change, NodeState, RunOutcome, cumulative, gate, outcome, settle};
use app::domain::records::StepRecord;
use app::domain::run::StepStatus;
use app::store::runs::{Claimed, compensated_node};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{Hash, Hasher};

/// Which step outputs a context holds: their count and an order-free hash
/// of their ids.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Sig {
    count: usize,
    sum: u64,
}

impl Sig {
    pub(super) fn add(&mut self, id: &str) {
        let mut h = std::hash::DefaultHasher::new();
        id.hash(&mut h);
        self.count += 1;
        self.sum = self.sum.wrapping_add(h.finish());
    }

    pub(super) fn of(ctx: &Value) -> Sig {
        let mut sig = Sig::default();
        if let Some(steps) = ctx.get("steps").and_then(Value::as_object) {
            // a step with only earlier passes (`iterations`) has no output yet
            steps
                .iter()
                .filter(|(_, v)| v.get("output").is_some())
                .for_each(|(k, _)| sig.add(k));
        }
        sig
    }
}

/// Puts a step's output in the context, keeping what its loop's earlier
/// passes produced (`iterations`).
pub(super) fn set_output(ctx: &mut Value, id: &str, output: &Value, confidence: Option<f64>) {
    let entry = &mut ctx["steps"][id];
    if !entry.is_object() {
        *entry = json!({});
    }
    entry["output"] = output.clone();
    entry["confidence"] = json!(confidence);
}

/// Results of pure steps evaluated ahead, by node id, with the context each
/// was evaluated over.
#[derive(Default)]
pub(super) struct Plan {
    steps: HashMap<String, (Outcome, Sig)>,
}

impl Plan {
    pub(super) fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The result for `node`, if it was evaluated over a context like `sig`.
    pub(super) fn take(&mut self, node: &str, sig: Sig) -> Option<Outcome> {
        match self.steps.remove(node) {
            Some((outcome, planned)) if planned == sig => Some(outcome),
            _ => None,
        }
    }
}

/// Whether a result would stop at a confidence gate.
fn gated(def: &WorkflowDef, node: &str, o: &Outcome, cum_in: f64) -> bool {
    let (Outcome::Done { confidence, .. }, Some(n)) = (o, def.node(node)) else {
        return false;
    };
    gate(
        *confidence,
        cum_in,
        n.confidence_threshold,
        def.settings.confidence_threshold,
    )
    .is_some()
}

fn apply(states: &mut BTreeMap<String, NodeState>, node: &str, o: &Outcome, cum_in: f64) {
    if let Outcome::Done {
        port, confidence, ..
    } = o
    {
        let state = states
            .entry(node.to_string())
            .or_insert_with(|| NodeState::new(StepStatus::Succeeded));
        state.status = StepStatus::Succeeded;
        state.port = Some(port.clone());
        state.cum_confidence = Some(cumulative(cum_in, *confidence));
    }
}

/// Applies what finishing `done` decides to `states`; returns the steps made
/// ready (their starting confidence goes to `cum_ins`).
fn activate(
    def: &WorkflowDef,
    states: &mut BTreeMap<String, NodeState>,
    cum_ins: &mut HashMap<String, f64>,
    done: &str,
) -> Vec<String> {
    let mut ready = vec![];
    for change in settle(def, states, &[done]) {
        match change {
            Change::Activate { node, cum_in } => {
                if let Some(s) = states.get_mut(&node) {
                    s.status = StepStatus::Ready;
                }
                cum_ins.insert(node.clone(), cum_in);
                ready.push(node);
            }
            Change::Skip { node } => {
                if let Some(s) = states.get_mut(&node) {
                    s.status = StepStatus::Skipped;
                }
            }
        }
    }
    ready
}

impl Engine {
    /// Walks the pure stretch that `outcome` of the claimed step `c` starts
    /// and evaluates it in the sandbox. `input` and `steps` are the run as
    /// read before the step ran (its successors see the run's context, not
    /// an input a person gave the step itself on retry).
    pub(super) async fn plan_stretch(
        &self,
        def: &WorkflowDef,
        run: &app::domain::records::RunRecord,
        steps: &[StepRecord],
        c: &Claimed,
        first: &Outcome,
        now: i64,
    ) -> Plan {
        let mut plan = Plan::default();
        let Outcome::Done {
            output, confidence, ..
        } = first
        else {
            return plan;
        };
        if compensated_node(&c.node_id).is_some() || gated(def, &c.node_id, first, c.cum_in) {
            return plan;
        }
        let mut states: BTreeMap<String, NodeState> = steps
            .iter()
            .map(|s| {
                let state = NodeState {
                    status: s.status,
                    port: s.port.clone(),
                    cum_confidence: s.cum_confidence,
                    pass: s.pass.max(0) as u32,
                    // a loop going round is decided in the transaction,
                    // never ahead: the stretch stops there
                    lap: 0,
                };
                (s.node_id.clone(), state)
            })
            .collect();
        apply(&mut states, &c.node_id, first, c.cum_in);
        let mut ctx = super::run_context(run, steps);
        set_output(&mut ctx, &c.node_id, output, *confidence);
        let mut cum_ins: HashMap<String, f64> = HashMap::new();
        let fresh = activate(def, &mut states, &mut cum_ins, &c.node_id);
        // the transaction reads the run's due steps in row order, which is
        // the order `steps` lists unfinished ones in
        let mut due: VecDeque<String> = steps
            .iter()
            .filter(|s| s.node_id != c.node_id && compensated_node(&s.node_id).is_none())
            .filter(|s| {
                (s.status == StepStatus::Ready && s.not_before <= now) || fresh.contains(&s.node_id)
            })
            .map(|s| s.node_id.clone())
            .collect();
        if outcome(def, &states) != RunOutcome::Open {
            return plan;
        }
        for _ in 0..MAX_INLINE_STEPS {
            let Some(at) = due
                .iter()
                .position(|id| def.node(id).is_some_and(|n| runners::is_pure(&n.kind)))
            else {
                break;
            };
            let id = due.remove(at).expect("position is in the queue");
            let node = def.node(&id).expect("found above");
            let sig = Sig::of(&ctx);
            let result = runners::run_pure(&self.sandbox, &node.kind, &ctx).await;
            let cum_in = cum_ins.get(&id).copied().unwrap_or(1.0);
            let stop = !matches!(result, Outcome::Done { .. }) || gated(def, &id, &result, cum_in);
            if let Outcome::Done {
                output, confidence, ..
            } = &result
            {
                set_output(&mut ctx, &id, output, *confidence);
            }
            apply(&mut states, &id, &result, cum_in);
            plan.steps.insert(id.clone(), (result, sig));
            if stop {
                break;
            }
            due.extend(activate(def, &mut states, &mut cum_ins, &id));
            if outcome(def, &states) != RunOutcome::Open {
                break;
            }
        }
        plan
    }
}
