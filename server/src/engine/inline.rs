//! Recording a run's pure stretch inside the completing transaction: the
//! steps evaluated ahead (`stretch`) whose context is still the one they
//! were evaluated over.

use super::runners::{self, Outcome};
use super::stretch::{Plan, Sig};
use super::told::Told;
use super::{Engine, MAX_INLINE_STEPS, Result, run_context};
use app::domain::graph::WorkflowDef;
use app::ops::progress;
use app::store::runs::{self as store, Claimed};
use serde_json::Value;

impl Engine {
    /// Records, inside the caller's transaction, the pure steps of `run_id`
    /// that are due and were evaluated ahead over the same context, until
    /// one is not (it stays in the queue). The steps due are read once; after
    /// that each step's result says which successors it made ready, and the
    /// run's step states are kept in memory (`states`, read on first need),
    /// so a step costs its claim, its update, its log line and its
    /// successors' updates, not a re-read of the whole run.
    ///
    /// Their step-log rows are kept in `told` and written together by the
    /// caller, in one statement per 50 (nothing in the stretch reads the
    /// step log back), except in a workflow with loops, where a row takes
    /// its loop pass from the step as it is when written.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run_pure_successors(
        &self,
        tx: &mut app::store::conn::Conn,
        run_id: &app::domain::ids::RunId,
        def: &WorkflowDef,
        now: i64,
        mut states: Option<progress::States>,
        mut plan: Plan,
        fresh: Vec<store::Activated>,
        told: &mut Told,
    ) -> Result<()> {
        if plan.is_empty() {
            return Ok(());
        }
        let mut ctx: Option<Value> = None;
        let mut sig = Sig::default();
        // (step, how it was made ready in this transaction, if it was), in
        // the order the steps were inserted
        let mut due: std::collections::VecDeque<(String, Option<store::Activated>)> =
            match told.steps.as_ref() {
                // the steps as read, and those made ready since (kept)
                Some(w) => {
                    let mut due: Vec<_> = w.due(now).into_iter().map(|id| (id, None)).collect();
                    due.extend(fresh.into_iter().map(|a| (a.node.clone(), Some(a))));
                    due.sort_by_key(|(id, _)| w.position(id));
                    due.into()
                }
                // written: the ones made ready are in the table
                None => store::due_in_run(tx, run_id, now)
                    .await?
                    .into_iter()
                    .map(|id| (id, None))
                    .collect(),
            };
        // Bounded, so one long run cannot hold the write lock for long; the
        // rest stays ready in the queue.
        for _ in 0..MAX_INLINE_STEPS {
            let Some(at) = due
                .iter()
                .position(|(id, _)| def.node(id).is_some_and(|n| runners::is_pure(&n.kind)))
            else {
                return Ok(());
            };
            let (id, fresh) = due.remove(at).expect("position is in the queue");
            let node = def.node(&id).expect("found above");
            if ctx.is_none() {
                let loaded = match plan.take_base() {
                    Some(base) => base,
                    None => {
                        if let Some(w) = told.steps.as_mut() {
                            w.flush(&mut *tx).await?;
                        }
                        let run = store::get_run(tx, run_id).await?;
                        let steps = store::get_steps(tx, run_id).await?;
                        run_context(&run, &steps)
                    }
                };
                sig = Sig::of(&loaded);
                ctx = Some(loaded);
            }
            // evaluated ahead over this very context, or left for a worker
            let Some(outcome) = plan.take(&id, sig) else {
                return Ok(());
            };
            if fresh.is_none()
                && let Some(w) = told.steps.as_mut()
            {
                // claimed from its row, which must be there
                w.ensure_written(&mut *tx).await?;
            }
            let c = match fresh {
                // made ready by this transaction: nobody else can have it,
                // and its result's update records the claim
                Some(a) => Claimed::in_transaction(run_id, &a),
                None => match store::claim_step(
                    tx,
                    run_id,
                    &node.id,
                    &self.worker,
                    now,
                    app::domain::limits::after_signed(now, self.lease_ms),
                )
                .await?
                {
                    Some(c) => {
                        if let Some(w) = told.steps.as_mut() {
                            w.note(&c.node_id, app::domain::run::StepStatus::Running, None);
                        }
                        c
                    }
                    // no longer ready (its state changed in this transaction)
                    None => continue,
                },
            };
            let context = ctx.as_mut().expect("context loaded above");
            let advanced = self
                .record(
                    tx,
                    &c,
                    def,
                    now,
                    now,
                    Some(context),
                    &outcome,
                    None,
                    &[],
                    &mut states,
                    told,
                )
                .await?;
            if let Outcome::Done {
                output, confidence, ..
            } = &outcome
            {
                app::domain::machine::set_output(context, &c.node_id, output, *confidence);
                sig.add(&c.node_id);
            }
            if advanced.ended.is_some() {
                return Ok(());
            }
            due.extend(
                advanced
                    .ready
                    .into_iter()
                    .map(|a| (a.node.clone(), Some(a))),
            );
        }
        Ok(())
    }
}
