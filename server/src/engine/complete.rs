//! Completing an attempt: one transaction that stores its result, logs it,
//! decides what follows, and records the pure successors evaluated ahead
//! (`stretch`, recorded by `inline`). Nothing user-supplied is evaluated in
//! it.

use super::runners::Ran;
use super::stretch::Plan;
use super::told::Told;
use super::{Engine, Result};
use app::domain::graph::WorkflowDef;
use app::domain::ids::RunId;
use app::domain::records::RunRecord;
use app::ops::progress;
use app::store::conn::{Batch, Finish, Results};
use app::store::runs::{self as store, Claimed};
use serde_json::Value;

impl Engine {
    /// Stores the attempt and everything it decides, in one transaction.
    /// Pure steps that become ready in the same run (no side effects: Start,
    /// Transform, Branch, Join, End, Fail) and were evaluated ahead (`plan`)
    /// are stored in that same transaction: one commit carries a run through
    /// its pure stretch, and a crash before it simply repeats pure work.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn finish(
        &self,
        c: &Claimed,
        run: &RunRecord,
        def: &WorkflowDef,
        started: i64,
        input: Option<&Value>,
        ran: impl Into<Ran>,
        mut plan: Plan,
    ) -> Result<()> {
        let ran = ran.into();
        let now = self.clock.now().max(started);
        // a run that reaches no other run (no parent; its workflow starts
        // none) is written beside other runs (see store::db)
        let mut tx = if run.parent_run_id.is_none() && !def.starts_runs() {
            self.db.write_run(Some(c.run_id.as_str())).await?
        } else {
            self.db.write().await?
        };
        // its audit events go with its last writes
        if let Some(g) = tx.gate() {
            g.defer_audit();
        }
        let mut states = None;
        // what this transaction did that others wait for, told after commit
        let mut told = Told::default();
        // a stretch to record (in a workflow without loops, whose steps go
        // round): its steps' changes and log rows are kept and written
        // together, and the steps' read answers whether this holds the lease
        let leased = if !plan.is_empty() && def.back_edges().is_empty() {
            let (writes, held) = store::StepWrites::read(&mut tx, &c.run_id).await?;
            plan.check_base(writes.as_read());
            let leased = writes.leased(&c.node_id, c.attempt, &self.worker);
            states = Some(held);
            told.steps = Some(writes);
            told.attempts = Some(vec![]);
            leased
        } else {
            store::holds_lease(&mut tx, c, &self.worker).await?
        };
        if !leased {
            // Cancelled, or the lease ran out and another attempt took over:
            // this result must not count.
            tracing::warn!("result discarded: the step is no longer leased to this worker");
            return Ok(());
        }
        let at = (started, now);
        self.complete(tx, c, run, def, at, input, ran, plan, states, told)
            .await
            .map(|_| ())
    }

    /// The rest of a completion, in `tx`, once the attempt of `c` is known
    /// to be this transaction's to record (`at`: when it started, and now):
    /// records it and the pure stretch it opens, writes what was kept and
    /// commits, then tells those waiting. How the run ended, if it did.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn complete(
        &self,
        mut tx: app::store::conn::Conn,
        c: &Claimed,
        run: &RunRecord,
        def: &WorkflowDef,
        at: (i64, i64),
        input: Option<&Value>,
        ran: Ran,
        plan: Plan,
        states: Option<progress::States>,
        told: Told,
    ) -> Result<Option<app::domain::run::RunStatus>> {
        let mut b = Batch::new();
        let queued = self
            .record_queued(
                &mut tx,
                &mut b,
                (c, run),
                def,
                at,
                input,
                ran,
                plan,
                states,
                told,
            )
            .await?;
        let (mut ended, _) = self.commit_queued(tx, b, vec![queued]).await?;
        Ok(ended.pop().flatten())
    }

    /// A completion's records in `tx`, with what it keeps for the end of
    /// the transaction (its steps' final rows, its step-log rows) queued
    /// in `b`: several runs' completions can share one commit
    /// ([`Engine::commit_queued`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record_queued<'a>(
        &self,
        tx: &mut app::store::conn::Conn,
        b: &mut Batch<'static>,
        (c, run): (&'a Claimed, &'a RunRecord),
        def: &WorkflowDef,
        (started, now): (i64, i64),
        input: Option<&Value>,
        ran: Ran,
        plan: Plan,
        mut states: Option<progress::States>,
        mut told: Told,
    ) -> Result<Queued<'a>> {
        let Ran {
            outcome,
            call,
            console,
        } = ran;
        let advanced = self
            .record(
                tx,
                c,
                def,
                started,
                now,
                input,
                &outcome,
                call.as_ref(),
                &console,
                &mut states,
                &mut told,
            )
            .await?;
        if store::compensated_node(&c.node_id).is_none() && advanced.ended.is_none() {
            let fresh = advanced.ready;
            self.run_pure_successors(tx, &c.run_id, def, now, states, plan, fresh, &mut told)
                .await?;
        }
        // the kept step changes and step-log rows go in the one batch
        let flush = told.steps.as_ref().map(|w| w.queue_flush(tx.backend(), b));
        if let Some(rows) = told.attempts.take() {
            for q in store::attempts_queries(tx.backend(), &rows) {
                b.push(q);
            }
        }
        Ok(Queued {
            run,
            run_id: &c.run_id,
            told,
            flush,
        })
    }

    /// Writes `b` (with the audit events kept) and commits `tx`, then
    /// tells those waiting what each completion queued in it changed. How
    /// each run ended, if it did, in the order given.
    pub(super) async fn commit_queued(
        &self,
        mut tx: app::store::conn::Conn,
        mut b: Batch<'static>,
        mut queued: Vec<Queued<'_>>,
    ) -> Result<(Vec<Option<app::domain::run::RunStatus>>, Results)> {
        let audit = app::store::audit::queue_pending(&mut tx, &mut b);
        // with its COMMIT, unless a guard (a step or the chain's head
        // moved) stopped it: then the transaction is still open
        let (done, open) = match b.commit(tx).await? {
            Finish::Committed(done) => (done, None),
            Finish::Open(tx, done) => (done, Some(tx)),
        };
        for q in &mut queued {
            if let (Some(w), Some(f)) = (q.told.steps.as_mut(), q.flush.take()) {
                w.flushed(&done, f)?;
            }
        }
        if let Some(mut tx) = open {
            app::store::audit::settle_pending(&mut tx, &done, audit).await?;
            tx.commit().await?;
        }
        let ended = queued
            .into_iter()
            .map(|q| {
                let ended = q.told.ended;
                self.tell(q.run, q.run_id, q.told);
                ended
            })
            .collect();
        Ok((ended, done))
    }
}

impl Queued<'_> {
    /// How the run ended, if the completion ended it.
    pub(super) fn ended(&self) -> Option<app::domain::run::RunStatus> {
        self.told.ended
    }
}

/// A completion recorded in a transaction that has not committed yet.
pub(super) struct Queued<'a> {
    run: &'a RunRecord,
    run_id: &'a RunId,
    told: Told,
    /// Its steps' final rows, queued in the batch.
    flush: Option<store::Flush>,
}
