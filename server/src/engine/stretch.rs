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
use crate::sandbox::Link;
use app::domain::graph::NodeKind;
use app::domain::graph::WorkflowDef;
use app::domain::machine::{
    Change, NodeState, RunOutcome, cumulative, gate, outcome, set_output, settle,
};
use app::domain::records::StepRecord;
use app::domain::run::StepStatus;
use app::store::runs::{Claimed, compensated_node};
use serde_json::Value;
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

/// Results of pure steps evaluated ahead, by node id, with the context each
/// was evaluated over.
#[derive(Clone, Default)]
pub(super) struct Plan {
    steps: HashMap<String, (Outcome, Sig)>,
    /// The context the stretch started from, and each step's status and
    /// attempt as read for it: while the steps are as read, the context is
    /// too (an output is written once per attempt), and the transaction
    /// need not read and build it again.
    base: Option<(Value, Vec<StepAsRead>)>,
}

/// A step's id, status and attempt as read.
type StepAsRead = (String, StepStatus, i64);

impl Plan {
    pub(super) fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Keeps the starting context only if the steps are still `read` as
    /// they were.
    pub(super) fn check_base<'a>(
        &mut self,
        read: impl Iterator<Item = (&'a str, StepStatus, i64)>,
    ) {
        let Some((_, then)) = self.base.as_mut() else {
            return;
        };
        let mut now: Vec<(&str, StepStatus, i64)> = read.collect();
        let mut then: Vec<(&str, StepStatus, i64)> =
            then.iter().map(|(n, s, a)| (n.as_str(), *s, *a)).collect();
        now.sort_by(|a, b| a.0.cmp(b.0));
        then.sort_by(|a, b| a.0.cmp(b.0));
        if now != then {
            self.base = None;
        }
    }

    /// The starting context, if [`Plan::check_base`] kept it.
    pub(super) fn take_base(&mut self) -> Option<Value> {
        self.base.take().map(|(ctx, _)| ctx)
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
pub(super) fn gated(def: &WorkflowDef, node: &str, o: &Outcome, cum_in: f64) -> bool {
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
        let plan = Plan::default();
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
            // a loop going round is decided in the transaction, never
            // ahead: the stretch stops there
            .map(|s| (s.node_id.clone(), NodeState::of_record(s)))
            .collect();
        apply(&mut states, &c.node_id, first, c.cum_in);
        let mut ctx = super::run_context(run, steps);
        set_output(&mut ctx, &c.node_id, output, *confidence);
        let mut cum_ins: HashMap<String, f64> = HashMap::new();
        let fresh = activate(def, &mut states, &mut cum_ins, &c.node_id);
        // the transaction reads the run's due steps in row order, which is
        // the order `steps` lists unfinished ones in
        let due: VecDeque<String> = steps
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
        let read = steps
            .iter()
            .map(|s| (s.node_id.clone(), s.status, s.attempt))
            .collect();
        let plan = Plan {
            base: Some((ctx.clone(), read)),
            ..plan
        };
        let mut walk = Walk {
            def,
            states,
            cum_ins,
            due,
            sig: Sig::of(&ctx),
            ctx,
            plan,
        };
        let mut budget = MAX_INLINE_STEPS;
        while budget > 0 {
            // the steps the walk takes if each succeeds on its usual port,
            // evaluated in one round trip; then walked for real
            let ahead = walk.speculate(budget);
            if ahead.is_empty() {
                break;
            }
            let links: Vec<Link> = ahead
                .iter()
                .map(|id| Link {
                    step: id.clone(),
                    kind: def
                        .node(id)
                        .expect("speculated from the graph")
                        .kind
                        .clone(),
                })
                .collect();
            // steps with nothing to evaluate (a Start, a Join, an End
            // without a mapping) need no round trip
            let evaluates = links
                .iter()
                .any(|l| !runners::pure::jobs(&l.kind).is_empty());
            let answered = match evaluates {
                false => vec![Some(vec![]); links.len()],
                true => match self.sandbox.run_chain(&walk.ctx, &links).await {
                    Ok(a) => a.into_iter().map(Some).collect(),
                    // one at a time instead, so each step meets its own
                    // bounds and is told which one it crossed
                    Err(_) => vec![None; links.len()],
                },
            };
            for (link, results) in links.iter().zip(answered) {
                budget -= 1;
                if walk.next_pure().as_deref() != Some(link.step.as_str()) {
                    return walk.plan;
                }
                let result = match results {
                    Some(r) => runners::pure::outcome(&link.kind, &walk.ctx, r),
                    None => runners::run_pure(&self.sandbox, &link.kind, &walk.ctx).await,
                };
                if !walk.take(&link.step, result) {
                    return walk.plan;
                }
            }
        }
        walk.plan
    }
}

/// A run's pure stretch being walked ahead: the step states and context
/// as the steps walked so far leave them, and what is due next.
struct Walk<'d> {
    def: &'d WorkflowDef,
    states: BTreeMap<String, NodeState>,
    cum_ins: HashMap<String, f64>,
    due: VecDeque<String>,
    ctx: Value,
    /// Which step outputs `ctx` holds, kept as outputs are set (as the
    /// transaction's record keeps it, see `inline`).
    sig: Sig,
    plan: Plan,
}

impl Walk<'_> {
    fn pure_at(def: &WorkflowDef, due: &VecDeque<String>) -> Option<usize> {
        due.iter()
            .position(|id| def.node(id).is_some_and(|n| runners::is_pure(&n.kind)))
    }

    /// The pure step the walk takes next.
    fn next_pure(&self) -> Option<String> {
        Self::pure_at(self.def, &self.due).map(|at| self.due[at].clone())
    }

    /// The next `most` steps, supposing each succeeds on its usual port:
    /// up to a Branch (its port depends on its result), a Fail or an End,
    /// or the run's end.
    fn speculate(&self, most: usize) -> Vec<String> {
        let (mut states, mut due) = (self.states.clone(), self.due.clone());
        let mut cum_ins = HashMap::new();
        let mut ahead = vec![];
        while ahead.len() < most {
            let Some(at) = Self::pure_at(self.def, &due) else {
                break;
            };
            let id = due.remove(at).expect("position is in the queue");
            ahead.push(id.clone());
            let kind = &self.def.node(&id).expect("found above").kind;
            if matches!(
                kind,
                NodeKind::Branch { .. } | NodeKind::Fail { .. } | NodeKind::End { .. }
            ) {
                break;
            }
            apply(&mut states, &id, &Outcome::out(Value::Null), 1.0);
            due.extend(activate(self.def, &mut states, &mut cum_ins, &id));
            if outcome(self.def, &states) != RunOutcome::Open {
                break;
            }
        }
        ahead
    }

    /// Takes step `id` (the next pure one) with `result`; whether the walk
    /// goes on.
    fn take(&mut self, id: &str, result: Outcome) -> bool {
        let at = Self::pure_at(self.def, &self.due).expect("the caller checked");
        self.due.remove(at);
        let sig = self.sig;
        let cum_in = self.cum_ins.get(id).copied().unwrap_or(1.0);
        let stop = !matches!(result, Outcome::Done { .. }) || gated(self.def, id, &result, cum_in);
        if let Outcome::Done {
            output, confidence, ..
        } = &result
        {
            set_output(&mut self.ctx, id, output, *confidence);
            self.sig.add(id);
        }
        apply(&mut self.states, id, &result, cum_in);
        self.plan.steps.insert(id.to_string(), (result, sig));
        if stop {
            return false;
        }
        let ready = activate(self.def, &mut self.states, &mut self.cum_ins, id);
        self.due.extend(ready);
        outcome(self.def, &self.states) == RunOutcome::Open
    }
}
