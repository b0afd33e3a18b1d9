//! A pure stretch's step writes, kept and written together.
//!
//! A completion that carries a run through its pure stretch used to write
//! each step twice: once when a finished step made it ready, once when its
//! result was recorded, a statement each. [`StepWrites`] holds the run's
//! steps as read at the start of that transaction and keeps the changes to
//! the steps it made ready in memory; [`StepWrites::flush`] writes each such
//! step's final row, many in one statement, each guarded by the status it
//! had when read (a row that moved meanwhile makes the flush fail, and the
//! transaction with it). Whoever reads steps in the transaction flushes
//! first; a write to a step this does not hold is made at once.

use super::{Activated, StepUpdate};
use crate::domain::ids::RunId;
use crate::domain::run::StepStatus;
use crate::domain::transitions::{StepEvent, step_transition};
use crate::store::conn::{Backend, Batch, Placeholders, Results};
use crate::store::{Result, StoreError};
use serde_json::Value;
use std::collections::HashMap;

/// One step of the run as read, and what this transaction changed of it.
struct Step {
    node: String,
    status: StepStatus,
    attempt: i64,
    not_before: i64,
    given_input: bool,
    cum_in: f64,
    /// Its loop pass as read (kept writes are only for workflows without
    /// loops, so it stays so: see `StepWrites::pass`).
    pass: i64,
    /// Who holds its lease, while it runs.
    lease_owner: Option<String>,
    change: Option<Change>,
    /// The result written by a flush of this transaction, for reads that
    /// would otherwise read it back ([`StepWrites::result`]).
    written: Option<Written>,
}

/// A result a flush wrote, as `step_result` would read it.
struct Written {
    output: Option<String>,
    cum_confidence: Option<f64>,
    error_class: Option<String>,
    error: Option<String>,
}

/// A step made ready (or skipped) here, and its result if recorded here.
struct Change {
    /// The status it had when read: the flush's guard.
    from: StepStatus,
    cum_in: f64,
    not_before: i64,
    finished_at: Option<i64>,
    done: Option<Done>,
}

/// A result recorded for a step made ready here (`update_step`'s fields).
struct Done {
    parked: bool,
    port: Option<String>,
    output: Option<String>,
    error_class: Option<String>,
    error: Option<String>,
    confidence: Option<f64>,
    cum_confidence: Option<f64>,
    claim: Option<(i64, i64)>,
    /// Its place among the results finished here (the run's finish order).
    seq: Option<i64>,
}

/// The steps of one run in a write transaction, with the changes not
/// written yet.
pub struct StepWrites {
    run_id: RunId,
    steps: Vec<Step>,
    at: HashMap<String, usize>,
    /// Results finished here and not written yet.
    finished: i64,
    /// The run's last place in its finish order (as read, then as written
    /// here): the next come after it without reading it.
    last_seq: i64,
    /// A run this transaction inserts, with no parent and no way to start
    /// runs ([`StepWrites::inserted`]): nothing outside its steps can be
    /// around it when it ends here.
    alone: bool,
    /// Its steps' rows are not in the table yet: the next flush inserts
    /// them all ([`StepWrites::inserting`]).
    unwritten: bool,
    /// Its ending, kept to go with the flush ([`StepWrites::end_with`]).
    ending: Option<(super::RunEnd, i64)>,
}

/// Rows written by one flush statement at most.
const ROWS_PER_STATEMENT: usize = 50;
/// Values bound per row.
const BOUND: usize = 17;

impl StepWrites {
    /// Each step as read, with its status and attempt then.
    pub fn as_read(&self) -> impl Iterator<Item = (&str, StepStatus, i64)> {
        self.steps.iter().map(|s| match &s.change {
            Some(c) => (s.node.as_str(), c.from, s.attempt),
            None => (s.node.as_str(), s.status, s.attempt),
        })
    }

    /// Ready steps that were due at `now` when read and that nobody gave an
    /// input by hand, in the order they were inserted (`due_in_run`).
    pub fn due(&self, now: i64) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.change.is_none() && s.status == StepStatus::Ready)
            .filter(|s| s.not_before <= now && !s.given_input)
            .filter(|s| super::compensated_node(&s.node).is_none())
            .map(|s| s.node.clone())
            .collect()
    }

    /// Whether `node` was, as read, running as `attempt` under `worker`'s
    /// lease (`holds_lease`, answered by the read that was made anyway).
    pub fn leased(&self, node: &str, attempt: i64, worker: &str) -> bool {
        self.at.get(node).is_some_and(|&i| {
            let s = &self.steps[i];
            s.change.is_none()
                && s.status == StepStatus::Running
                && s.attempt == attempt
                && s.lease_owner.as_deref() == Some(worker)
        })
    }

    /// Keeps the next result of `node`, running as read, to be written by
    /// the flush (with the steps made ready here) rather than at once.
    /// False when it is not running as read.
    pub fn adopt(&mut self, node: &str) -> bool {
        let Some(&i) = self.at.get(node) else {
            return false;
        };
        let step = &mut self.steps[i];
        if step.change.is_some() || step.status != StepStatus::Running {
            return false;
        }
        step.change = Some(Change {
            from: StepStatus::Running,
            cum_in: step.cum_in,
            not_before: step.not_before,
            finished_at: None,
            done: None,
        });
        true
    }

    /// What `node` produced, when this transaction recorded it (kept for
    /// the next flush, or written by one, and nothing wrote the step
    /// since): `step_result` without the read.
    pub fn result(&self, node: &str) -> Option<super::StepResult> {
        let step = &self.steps[*self.at.get(node)?];
        let (output, cum_confidence, error_class, error) = match (&step.change, &step.written) {
            (Some(c), _) => {
                let d = c.done.as_ref()?;
                (&d.output, d.cum_confidence, &d.error_class, &d.error)
            }
            (None, Some(w)) => (&w.output, w.cum_confidence, &w.error_class, &w.error),
            (None, None) => return None,
        };
        Some(super::StepResult {
            output: super::json_col(output.clone()),
            cum_confidence,
            error_class: error_class.clone(),
            error: error.clone(),
        })
    }

    /// Where `node` comes in the order the steps were inserted.
    pub fn position(&self, node: &str) -> usize {
        self.at.get(node).copied().unwrap_or(usize::MAX)
    }

    /// `resolve_pending` kept here: None when the step's status does not
    /// allow it (as the statement's guard would change no row). `None` as
    /// the outer value: this does not hold the step, write it at once.
    pub fn resolve(
        &mut self,
        node: &str,
        event: StepEvent,
        cum_in: f64,
        now: i64,
    ) -> Option<Option<Activated>> {
        let step = &mut self.steps[*self.at.get(node)?];
        // a step already changed here is resolved again only by a loop,
        // which a transaction that keeps its writes never goes round
        if step.change.is_some() {
            return None;
        }
        let Some(target) = step_transition(step.status, event) else {
            return Some(None);
        };
        step.change = Some(Change {
            from: step.status,
            cum_in,
            not_before: now,
            finished_at: (target == StepStatus::Skipped).then_some(now),
            done: None,
        });
        step.status = target;
        Some(
            (event == StepEvent::Activate && !step.given_input).then(|| Activated {
                node: node.to_string(),
                cum_in,
                attempt: step.attempt + 1,
            }),
        )
    }

    /// `update_step` kept here, for a step made ready here; false when this
    /// does not hold it (write it at once, after [`StepWrites::flush`]).
    pub fn update(&mut self, node: &str, u: &StepUpdate<'_>) -> Result<bool> {
        let Some(&i) = self.at.get(node) else {
            return Ok(false);
        };
        let step = &mut self.steps[i];
        let Some(change) = step.change.as_mut().filter(|c| c.done.is_none()) else {
            return Ok(false);
        };
        let allowed = match u.claim {
            Some(_) => step_transition(step.status, StepEvent::Claim)
                .and_then(|running| step_transition(running, u.event)),
            None => step_transition(step.status, u.event),
        };
        if allowed.is_none() {
            return Err(StoreError::Conflict(format!(
                "step '{node}' of run '{}' cannot move by {:?} from where it is",
                self.run_id, u.event
            )));
        }
        step.status = u.status();
        change.not_before = u.not_before;
        change.finished_at = u.finished_at;
        let seq = u.finished_at.map(|_| {
            self.finished += 1;
            self.finished
        });
        change.done = Some(Done {
            parked: u.parked,
            port: u.port.map(str::to_string),
            output: u.output.map(Value::to_string),
            error_class: u.error_class.map(str::to_string),
            error: u
                .error
                .map(|e| super::attempts::capped_error(e).into_owned()),
            confidence: u.confidence,
            cum_confidence: u.cum_confidence,
            claim: u.claim,
            seq,
        });
        if let Some((attempt, _)) = u.claim {
            step.attempt = attempt;
        }
        Ok(true)
    }

    /// A step written at once now has `status`, and `seq` as its place in
    /// the finish order (`update_step`'s answer).
    pub fn note(&mut self, node: &str, status: StepStatus, seq: Option<i64>) {
        if let Some(&i) = self.at.get(node) {
            self.steps[i].status = status;
            self.steps[i].written = None;
        }
        if let Some(seq) = seq {
            self.last_seq = self.last_seq.max(seq);
        }
    }

    /// Writes every change kept, each step's final row once.
    pub async fn flush(&mut self, conn: &mut crate::store::conn::Conn) -> Result<()> {
        let mut b = Batch::new();
        let f = self.queue_flush(conn.backend(), &mut b);
        let done = b.run(conn).await?;
        self.flushed(&done, f)
    }

    /// The flush's statements, queued in `b` (to go with the transaction's
    /// other writes); [`StepWrites::flushed`] checks them once it ran.
    pub fn queue_flush(&self, backend: Backend, b: &mut Batch<'static>) -> Flush {
        let changed: Vec<usize> = (0..self.steps.len())
            .filter(|&i| self.steps[i].change.is_some())
            .collect();
        // the results finished here come after every one written before
        let base = self.last_seq;
        let mut at = Vec::new();
        // the run's ending after its steps' final rows, guarded as they are
        let ending = self
            .ending
            .as_ref()
            .and_then(|(end, now)| super::ending::end_query(&self.run_id, end, *now, false).ok());
        let (rows, sql): (Vec<usize>, fn(usize, Placeholders) -> String) = match self.unwritten {
            // every step, in the order inserted (its rowid keeps it)
            true => ((0..self.steps.len()).collect(), insert_sql),
            false => (changed.clone(), flush_sql),
        };
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut q =
                crate::store::conn::query(sql(chunk.len(), Placeholders::for_backend(backend)));
            for &i in chunk {
                for v in match self.unwritten {
                    true => self.inserted_row(i, base),
                    false => self.row(i, base),
                } {
                    q = q.bind(v);
                }
            }
            if !self.unwritten {
                q = q.bind(self.run_id.as_str().to_string());
            }
            at.push((b.push_guarded(q, chunk.len() as u64), chunk.len() as u64));
        }
        let ended = ending.map(|q| {
            at.push((b.push_guarded(q, 1), 1));
        });
        Flush {
            changed,
            at,
            ended: ended.is_some(),
            inserted: self.unwritten,
        }
    }

    /// Checks a queued flush wrote every row it was to, and takes what it
    /// wrote as written.
    pub fn flushed(&mut self, done: &Results, f: Flush) -> Result<()> {
        for (i, rows) in f.at {
            // a statement its guard stopped the batch before did not run
            if done.affected(i).ok() != Some(rows) {
                return Err(StoreError::Conflict(format!(
                    "steps of run '{}' moved while their changes were kept",
                    self.run_id
                )));
            }
        }
        if f.ended {
            self.ending = None;
        }
        if f.inserted {
            self.unwritten = false;
        }
        if f.changed.is_empty() {
            return Ok(());
        }
        for i in f.changed {
            let step = &mut self.steps[i];
            step.cum_in = step.change.as_ref().map_or(step.cum_in, |c| c.cum_in);
            step.written = step.change.take().and_then(|c| c.done).map(|d| Written {
                output: d.output,
                cum_confidence: d.cum_confidence,
                error_class: d.error_class,
                error: d.error,
            });
        }
        self.last_seq += self.finished;
        self.finished = 0;
        Ok(())
    }
}

/// A flush queued in a batch ([`StepWrites::queue_flush`]).
pub struct Flush {
    changed: Vec<usize>,
    /// Each statement's place in the batch, and the rows it must write.
    at: Vec<(usize, u64)>,
    /// It wrote the run's ending.
    ended: bool,
    /// It inserted the steps' rows.
    inserted: bool,
}

#[path = "writes_read.rs"]
mod read;
#[path = "writes_sql.rs"]
mod sql;
use sql::{flush_sql, insert_sql};

#[cfg(test)]
#[path = "writes_tests.rs"]
mod tests;
