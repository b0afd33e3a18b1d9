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

use super::complete::Queued;
use super::runners::{self, Outcome};
use super::stretch::Plan;
use super::told::Told;
use super::views::Viewed;
use super::{Engine, Result, run_context};
use app::domain::ids::RunId;
use app::domain::records::RunRecord;
use app::domain::run::{RunStatus, StepStatus};
use app::ops::runs::RunRows;
use app::store::StoreError;
use app::store::conn::{Batch, Conn, Results};
use app::store::runs::{Activated, Claimed, StepWrites};
use app::store::runs::{ViewAt, queue_view};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A new run's Start, evaluated with the stretch it opens, before the run
/// is inserted.
struct Opening {
    def: Arc<app::domain::graph::WorkflowDef>,
    claimed: Claimed,
    context: Value,
    outcome: Outcome,
    plan: Plan,
}

/// A run carried through its opening: how it ended, if the opening ended
/// it, and then, when its start asked, the run as its transaction left it.
#[derive(Default)]
pub(super) struct Carried {
    pub ended: Option<RunStatus>,
    pub view: Option<Viewed>,
}

/// A new run to insert with its opening recorded (`now`: when).
pub(super) struct Fresh {
    rows: RunRows,
    opening: Opening,
    now: i64,
}

impl Fresh {
    pub(super) fn id(&self) -> &RunId {
        &self.rows.id
    }

    /// The run's rows, as inserted.
    pub(super) fn rows(&self) -> &RunRows {
        &self.rows
    }
}

impl Engine {
    /// Starts the run `rows` describes (see `ops::runs::prepare`), in a
    /// transaction of its own. When its Start opens a pure stretch, the
    /// run is inserted with the stretch recorded; otherwise it is inserted
    /// as `ops::runs::insert_prepared` does and left to the workers.
    pub async fn start(&self, rows: RunRows) -> std::result::Result<RunId, app::error::AppError> {
        let id = rows.id.clone();
        match self.fresh(rows).await? {
            Ok(fresh) => self
                .carry(fresh, false)
                .await
                .map(|_| id)
                .map_err(Into::into),
            Err(rows) => self.queue_start(rows).await,
        }
    }

    /// The run `rows` describes with its opening evaluated, or `rows`
    /// back when it is left to the workers (see [`Engine::opening`]).
    pub(super) async fn fresh(&self, rows: RunRows) -> Result<std::result::Result<Fresh, RunRows>> {
        let now = self.clock.now().max(rows.record.created_at);
        Ok(match self.opening(&rows, now).await? {
            Some(opening) => Ok(Fresh { rows, opening, now }),
            None => Err(rows),
        })
    }

    /// Inserts the run with its Start ready, for a worker.
    pub(super) async fn queue_start(
        &self,
        rows: RunRows,
    ) -> std::result::Result<RunId, app::error::AppError> {
        let id = app::ops::runs::insert_prepared(&self.db, rows).await?;
        self.wake();
        Ok(id)
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

    /// Inserts the run and records its opening, in a transaction of its
    /// own.
    pub(super) async fn carry(&self, fresh: Fresh, view: bool) -> Result<Carried> {
        // a new run, seen by nobody before the commit: beside other runs
        let tx = self.db.write_run(None).await?;
        let mut carried = self.carry_in(tx, vec![fresh], view).await?;
        Ok(carried.pop().unwrap_or_default())
    }

    /// Inserts the runs of `group` and records their openings in `tx`,
    /// committed together; how each ended, in order. With `view`, the
    /// transaction also reads each run its opening ended as it commits
    /// (a synchronous start answers with it without reading it again).
    pub(super) async fn carry_in(
        &self,
        mut tx: Conn,
        mut group: Vec<Fresh>,
        view: bool,
    ) -> Result<Vec<Carried>> {
        // read with the gate held: what a view read here stands for
        let as_of = self.db.runs_touched();
        // their audit events go with the last writes, each `run.started` first
        if let Some(g) = tx.gate() {
            g.defer_audit();
        }
        // a version several of them confirm is checked once
        let mut confirmed = Vec::new();
        for f in &mut group {
            f.rows.confirmed_once(&mut confirmed);
        }
        let heads: Vec<(RunRecord, Claimed)> = group
            .iter()
            .map(|f| (f.rows.record.clone(), f.opening.claimed.clone()))
            .collect();
        let mut b = Batch::new();
        let mut queued = Vec::with_capacity(group.len());
        for (fresh, (run, claimed)) in group.into_iter().zip(&heads) {
            queued.push(self.carry_one(&mut tx, &mut b, fresh, run, claimed).await?);
        }
        // after every write: they read what commits
        let views: Vec<Option<ViewAt>> = queued
            .iter()
            .zip(&heads)
            .map(|(q, (run, _))| {
                (view && q.ended().is_some()).then(|| queue_view(&mut b, run.id.clone()))
            })
            .collect();
        let (ended, done) = self.commit_queued(tx, b, queued).await?;
        let mut carried = Vec::with_capacity(ended.len());
        for ((ended, at), (run, _)) in ended.into_iter().zip(views).zip(&heads) {
            let view = match at {
                Some(at) => self.view_from(&run.id, &done, at).await,
                None => None,
            }
            .map(|run| Viewed { run, as_of });
            carried.push(Carried { ended, view });
        }
        Ok(carried)
    }

    /// The run's view as `at` of `done` read it; None (the start reads it
    /// again) when the batch stopped before it or it cannot be read.
    async fn view_from(
        &self,
        id: &RunId,
        done: &Results,
        at: ViewAt,
    ) -> Option<app::domain::records::RunDetail> {
        match app::ops::runs::get_from(&self.db, id, done, at).await {
            Ok(view) => view,
            Err(e) => {
                tracing::warn!(run_id = %id, error = %e, "a started run's view could not be read in its transaction");
                None
            }
        }
    }

    /// One new run's insert and opening, in `tx` (its kept writes queued
    /// in `b`).
    async fn carry_one<'a>(
        &self,
        tx: &mut Conn,
        b: &mut Batch<'static>,
        fresh: Fresh,
        run: &'a RunRecord,
        claimed: &'a Claimed,
    ) -> Result<Queued<'a>> {
        let Fresh {
            mut rows,
            opening,
            now,
        } = fresh;
        let steps = std::mem::take(&mut rows.steps);
        // its steps' rows are written once, as the transaction leaves
        // them, by the flush of the writes kept below
        rows.leave_steps();
        // the run's row goes with the transaction's first message (on SQLite)
        app::ops::runs::insert_first(tx, rows).await?;
        let Opening {
            def,
            context,
            outcome,
            mut plan,
            ..
        } = opening;
        // no parent, no runs it starts (see `opening`): ended here, the run
        // has nothing around it to read
        let alone = run.parent_run_id.is_none() && !def.starts_runs();
        let (mut writes, held) = StepWrites::inserting(&run.id, &steps, alone);
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
        let at = (now, now);
        self.record_queued(
            tx,
            b,
            (claimed, run),
            &def,
            at,
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
