//! Starting a run and carrying it through its opening pure steps in the
//! transaction that inserts it.
//!
//! A run whose Start leads into pure steps (Transform, Branch, Join, End,
//! Fail) used to be inserted, then claimed by a worker, whose completion
//! read its steps back and recorded the stretch: three turns at the write
//! gate. Here the Start and the stretch it opens are evaluated first, in
//! the sandbox and outside the gate, over the run as it will be inserted
//! (the machine's pure functions, as a worker's `plan_stretch` does); the
//! transaction then inserts the run and records them with the same
//! completion code a worker uses. A run made only of pure steps has ended
//! when the start answers; the first step that calls out (or waits, or
//! asks a person) is left ready for a worker, as after any completion.

use super::runners::{self, Outcome};
use super::stretch::Plan;
use super::told::Told;
use super::{Engine, Result, run_context};
use app::domain::ids::RunId;
use app::domain::records::StepRecord;
use app::domain::run::{RunStatus, StepStatus};
use app::ops::runs::RunRows;
use app::store::StoreError;
use app::store::runs::{Activated, Claimed, StepWrites};
use serde_json::Value;
use std::time::Duration;

/// A new run's Start, evaluated with the stretch it opens, before the run
/// is inserted.
struct Opening {
    def: std::sync::Arc<app::domain::graph::WorkflowDef>,
    claimed: Claimed,
    context: Value,
    outcome: Outcome,
    plan: Plan,
}

impl Engine {
    /// Starts the run `rows` describes (see `ops::runs::prepare`). When its
    /// Start opens a pure stretch, the run is inserted with the stretch
    /// recorded, in one transaction; otherwise it is inserted as
    /// `ops::runs::insert_prepared` does and left to the workers.
    pub async fn start(&self, rows: RunRows) -> std::result::Result<RunId, app::error::AppError> {
        self.start_told(rows).await.map(|(id, _)| id)
    }

    /// As [`Engine::start`], and how the run ended if its opening ended
    /// it (a synchronous start answers then without looking).
    pub async fn start_told(
        &self,
        rows: RunRows,
    ) -> std::result::Result<(RunId, Option<RunStatus>), app::error::AppError> {
        let now = self.clock.now().max(rows.record.created_at);
        let Some(opening) = self.opening(&rows, now).await? else {
            let id = app::ops::runs::insert_prepared(&self.db, rows).await?;
            self.wake();
            return Ok((id, None));
        };
        let id = rows.id.clone();
        let ended = self.carry(rows, opening, now).await?;
        tracing::info!(run_id = %id, "run started and carried through its pure opening");
        Ok((id, ended))
    }

    /// The run's Start and the pure stretch it opens, evaluated ahead;
    /// None where a worker must take the run (as for a chaos run, whose
    /// steps are each claimed to take their faults, or where the completion
    /// would not record a stretch: a run that reaches other runs, a
    /// workflow with loops, the simple path), or when nothing follows the
    /// Start that could be recorded with it.
    async fn opening(&self, rows: &RunRows, now: i64) -> Result<Option<Opening>> {
        let run = &rows.record;
        if self.simple || run.chaos.is_some() || run.parent_run_id.is_some() {
            return Ok(None);
        }
        let def = self.definition(run).await?;
        if def.starts_runs() || !def.back_edges().is_empty() {
            return Ok(None);
        }
        let Some(node) = rows
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Ready)
            .and_then(|s| def.node(&s.node_id))
            .filter(|n| runners::is_pure(&n.kind))
        else {
            return Ok(None);
        };
        let claimed = Claimed::in_transaction(&rows.id, &first_attempt(&node.id));
        let context = run_context(run, &rows.steps);
        // as a worker runs it: within the step's time limit
        let ms = self.step_limit(node);
        let limited = tokio::time::timeout(
            Duration::from_millis(ms),
            runners::run_pure(&self.sandbox, &node.kind, &context),
        );
        let outcome = match limited.await {
            Ok(o) => o,
            Err(_) => return Ok(None),
        };
        let plan = self
            .plan_stretch(&def, run, &rows.steps, &claimed, &outcome, now)
            .await;
        if plan.is_empty() {
            return Ok(None);
        }
        Ok(Some(Opening {
            def,
            claimed,
            context,
            outcome,
            plan,
        }))
    }

    /// Inserts the run and records its opening in the same transaction.
    async fn carry(&self, rows: RunRows, o: Opening, now: i64) -> Result<Option<RunStatus>> {
        let run = rows.record.clone();
        let steps: Vec<StepRecord> = rows.steps.clone();
        // a new run, seen by nobody before the commit: beside other runs
        let mut tx = self.db.write_run(None).await?;
        // its audit events go with its last writes, `run.started` first
        if let Some(g) = tx.gate() {
            g.defer_audit();
        }
        // its rows go with the transaction's first message (on SQLite)
        app::ops::runs::insert_first(&mut tx, rows).await?;
        // no parent, no runs it starts (see `opening`): ended here, the run
        // has nothing around it to read
        let alone = run.parent_run_id.is_none() && !o.def.starts_runs();
        let (mut writes, held) = StepWrites::inserted(&run.id, &steps, alone);
        let Opening {
            def,
            claimed,
            context,
            outcome,
            mut plan,
        } = o;
        let taken = writes.take_ready(&claimed.node_id).map(|a| a.attempt);
        if taken != Some(claimed.attempt) {
            return Err(StoreError::Conflict(format!(
                "the Start of the new run '{}' was not ready as inserted",
                run.id
            )));
        }
        plan.check_base(writes.as_read());
        let told = Told {
            steps: Some(writes),
            attempts: Some(vec![]),
            ..Told::default()
        };
        let ran = runners::Ran::from(outcome);
        self.complete(
            tx,
            &claimed,
            &run,
            &def,
            (now, now),
            Some(&context),
            ran,
            plan,
            Some(held),
            told,
        )
        .await
    }
}

/// The first attempt of a new run's `node`, made ready by its insert.
fn first_attempt(node: &str) -> Activated {
    Activated {
        node: node.to_string(),
        cum_in: 1.0,
        attempt: 1,
    }
}
