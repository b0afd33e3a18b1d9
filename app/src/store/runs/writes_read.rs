//! A transaction's view of a run's steps: read from the table, or known
//! without a read because the transaction inserted them.

use super::{Change, Step, StepWrites};
use crate::domain::ids::RunId;
use crate::domain::machine::NodeState;
use crate::domain::records::StepRecord;
use crate::domain::run::StepStatus;
use crate::store::Result;
use crate::store::runs::{Activated, corrupt};
use std::collections::{BTreeMap, HashMap};

impl StepWrites {
    /// Reads the run's steps (in the order they were inserted) and the
    /// machine's view of them.
    pub async fn read(
        conn: &mut crate::store::conn::Conn,
        run_id: &RunId,
    ) -> Result<(StepWrites, BTreeMap<String, NodeState>)> {
        #[derive(sqlx::FromRow)]
        struct Row {
            node_id: String,
            status: String,
            attempt: i64,
            not_before: i64,
            given_input: bool,
            port: Option<String>,
            cum_confidence: Option<f64>,
            pass: i64,
            lap: i64,
            cum_in: f64,
            lease_owner: Option<String>,
            finish_seq: Option<i64>,
        }
        let rows: Vec<Row> = crate::store::conn::query_as(
            "SELECT node_id, status, attempt, not_before, input_override IS NOT NULL AS given_input,
                    port, cum_confidence, pass, lap, cum_in, lease_owner, finish_seq
             FROM steps WHERE run_id = $1 ORDER BY rowid",
        )
        .bind(run_id)
        .fetch_all(conn)
        .await?;
        let mut states = BTreeMap::new();
        let mut writes = StepWrites {
            run_id: run_id.clone(),
            steps: Vec::with_capacity(rows.len()),
            at: HashMap::with_capacity(rows.len()),
            finished: 0,
            last_seq: rows.iter().filter_map(|r| r.finish_seq).max().unwrap_or(0),
            alone: false,
            unwritten: false,
            ending: None,
        };
        for r in rows {
            let status =
                StepStatus::parse(&r.status).ok_or_else(|| corrupt("step status", &r.status))?;
            let state = NodeState {
                status,
                port: r.port,
                cum_confidence: r.cum_confidence,
                pass: r.pass.max(0) as u32,
                lap: r.lap.max(0) as u32,
            };
            states.insert(r.node_id.clone(), state);
            writes.at.insert(r.node_id.clone(), writes.steps.len());
            writes.steps.push(Step {
                node: r.node_id,
                status,
                attempt: r.attempt,
                not_before: r.not_before,
                given_input: r.given_input,
                cum_in: r.cum_in,
                pass: r.pass,
                lease_owner: r.lease_owner,
                change: None,
                written: None,
            });
        }
        Ok((writes, states))
    }

    /// The steps of a run this transaction inserts, as `steps` lists them
    /// (in the order inserted, as a new run's insert leaves them: `cum_in`
    /// 1, no lease, no input given by hand): what [`StepWrites::read`]
    /// would read back, without the read.
    /// `alone`: the run has no parent and its workflow starts no runs.
    pub fn inserted(
        run_id: &RunId,
        steps: &[StepRecord],
        alone: bool,
    ) -> (StepWrites, BTreeMap<String, NodeState>) {
        Self::new_run(run_id, steps, alone, false)
    }

    /// As [`StepWrites::inserted`], for steps whose rows are not written
    /// yet: the first flush inserts every one of them as this transaction
    /// leaves it (a run carried through its opening in the transaction
    /// that inserts it writes each step's row once, not inserted and then
    /// updated). Until then nothing may read or write them but through
    /// this ([`StepWrites::ensure_written`]).
    pub fn inserting(
        run_id: &RunId,
        steps: &[StepRecord],
        alone: bool,
    ) -> (StepWrites, BTreeMap<String, NodeState>) {
        Self::new_run(run_id, steps, alone, true)
    }

    fn new_run(
        run_id: &RunId,
        steps: &[StepRecord],
        alone: bool,
        unwritten: bool,
    ) -> (StepWrites, BTreeMap<String, NodeState>) {
        let mut states = BTreeMap::new();
        let mut writes = StepWrites {
            run_id: run_id.clone(),
            steps: Vec::with_capacity(steps.len()),
            at: HashMap::with_capacity(steps.len()),
            finished: 0,
            last_seq: 0,
            alone,
            unwritten,
            ending: None,
        };
        for s in steps {
            states.insert(s.node_id.clone(), NodeState::of_record(s));
            writes.at.insert(s.node_id.clone(), writes.steps.len());
            writes.steps.push(Step {
                node: s.node_id.clone(),
                status: s.status,
                attempt: s.attempt,
                not_before: s.not_before,
                given_input: false,
                cum_in: 1.0,
                pass: s.pass,
                lease_owner: None,
                change: None,
                written: None,
            });
        }
        (writes, states)
    }

    /// Writes the steps' rows now when they are not in the table yet
    /// ([`StepWrites::inserting`]): before anything reads or writes one
    /// of them but through this.
    pub async fn ensure_written(&mut self, conn: &mut crate::store::conn::Conn) -> Result<()> {
        match self.unwritten {
            true => self.flush(conn).await,
            false => Ok(()),
        }
    }

    /// The loop pass `node` is in, as read. A transaction keeps writes
    /// only for a workflow without loops (none of its steps goes round),
    /// so this is the pass its row is in when the transaction commits.
    pub fn pass(&self, node: &str) -> Option<i64> {
        self.at.get(node).map(|&i| self.steps[i].pass)
    }

    /// Takes `node`, ready as read, to run in this transaction (a new
    /// run's Start): its claim and result are kept for the flush, which is
    /// guarded by its being ready still. None when it was not ready as
    /// read, or was given an input by hand.
    pub fn take_ready(&mut self, node: &str) -> Option<Activated> {
        let step = &mut self.steps[*self.at.get(node)?];
        if step.change.is_some() || step.status != StepStatus::Ready || step.given_input {
            return None;
        }
        step.change = Some(Change {
            from: StepStatus::Ready,
            cum_in: step.cum_in,
            not_before: step.not_before,
            finished_at: None,
            done: None,
        });
        Some(Activated {
            node: node.to_string(),
            cum_in: step.cum_in,
            attempt: step.attempt + 1,
        })
    }

    /// Whether the run can end with its ending kept for the flush: a run
    /// this transaction inserted ([`StepWrites::inserted`], `alone`) whose
    /// steps have all finished has nothing around it to read (no step to
    /// cancel, no approval item: a step that asks a person is still open,
    /// no parent, no child runs).
    pub fn ends_alone(&self) -> bool {
        self.alone && self.ending.is_none() && self.steps.iter().all(|s| s.status.is_final())
    }

    /// Keeps the run's ending to be written by the next flush, after the
    /// steps' final rows and guarded as they are.
    pub fn end_with(&mut self, end: &crate::store::runs::RunEnd, now: i64) {
        self.ending = Some((end.clone(), now));
    }
}
