//! Group commit of new runs' starts.
//!
//! A REST start carries its run through the opening pure steps in one
//! transaction (`fresh`). On SQLite the writers take turns at one gate, and
//! each turn costs its `BEGIN`, its message to SQLite's thread, its
//! `COMMIT` with the WAL pages it wrote, and the hand-offs between threads
//! around them, whatever it writes. So starts that come while another
//! start holds the gate wait in a queue here; the first of them leads: it
//! takes the gate, and everything queued by then goes in its transaction,
//! up to [`MOST`] runs (as a journal's writer drains the records that came
//! while it was writing). Each start still answers only once its run has
//! committed.
//!
//! The opening of each run was evaluated before it queued (in the
//! sandbox, outside the gate), so a group's transaction evaluates nothing
//! user-supplied. When a group's transaction fails, each of its runs is
//! started again on its own from its rows (its opening evaluated again,
//! outside the gate: a group keeps only its runs' rows for that, not their
//! evaluated openings, which are most of what a start holds), so a run
//! that cannot be written (its id was taken meanwhile, say) fails alone
//! and the others stand. The leader runs as a
//! task of its own: a request that goes away does not take the others'
//! transaction with it.

use super::Engine;
use super::fresh::{Carried, Fresh};
use app::error::AppError;
use app::ops::runs::RunRows;
use app::store::StoreError;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// The most runs one transaction carries.
pub(super) const MOST: usize = 8;

/// Starts waiting for a transaction, and whether one of them leads.
#[derive(Default)]
pub(super) struct Starts {
    queue: Mutex<Queue>,
    /// Groups written together so far, and the runs they carried.
    groups: AtomicU64,
    carried: AtomicU64,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Waiting>,
    /// A leader is writing groups (and takes the waiting ones next).
    leading: bool,
}

struct Waiting {
    fresh: Fresh,
    /// The start answers with the run (see `Engine::start_viewed`).
    view: bool,
    answer: oneshot::Sender<Answer>,
}

impl Starts {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // nothing panics while holding it; if something did, the queue is
        // still whole
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Engine {
    /// How many REST starts wait for a transaction now.
    pub fn starts_waiting(&self) -> usize {
        self.starts.lock().waiting.len()
    }

    /// How many transactions have carried REST starts so far, and how many
    /// runs they carried.
    pub fn start_groups(&self) -> (u64, u64) {
        let s = &self.starts;
        (
            s.groups.load(Ordering::Relaxed),
            s.carried.load(Ordering::Relaxed),
        )
    }

    /// Carries `fresh` in the next group's transaction (see the module
    /// docs); how the run ended, if its opening ended it, and with `view`
    /// the run as the transaction left it.
    pub(super) async fn carry_grouped(self: &Arc<Self>, fresh: Fresh, view: bool) -> Answer {
        let (answer, answered) = oneshot::channel();
        let lead = {
            let mut q = self.starts.lock();
            q.waiting.push_back(Waiting {
                fresh,
                view,
                answer,
            });
            !std::mem::replace(&mut q.leading, true)
        };
        if lead {
            tokio::spawn(self.clone().lead_starts());
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Conflict(
                "the server stopped before the run was written; nothing was started".into(),
            )
            .into())
        })
    }

    /// Writes groups of the waiting starts until none is waiting.
    async fn lead_starts(self: Arc<Self>) {
        let _step_down = StepDown(&self.starts);
        loop {
            // the gate first: starts that come while it is waited for
            // join this group
            let tx = self.db.write_run(None).await;
            let group: Vec<Waiting> = {
                let mut q = self.starts.lock();
                let n = group_size(q.waiting.len());
                q.waiting.drain(..n).collect()
            };
            self.write_group(tx, group).await;
            let mut q = self.starts.lock();
            if q.waiting.is_empty() {
                q.leading = false;
                return;
            }
        }
    }

    /// Writes `group` in `tx` and answers each start; when that fails,
    /// writes each on its own.
    async fn write_group(&self, tx: super::Result<app::store::conn::Conn>, group: Vec<Waiting>) {
        // one start that answers with its run has every run of the group
        // read (so a group's statements are one of few texts)
        let view = group.iter().any(|w| w.view);
        let (fresh, answers): (Vec<Fresh>, Vec<_>) =
            group.into_iter().map(|w| (w.fresh, w.answer)).unzip();
        // a group of one is on its own already
        let spare: Option<Vec<RunRows>> =
            (fresh.len() > 1).then(|| fresh.iter().map(|f| f.rows().clone()).collect());
        let together = match tx {
            Ok(tx) => self.carry_in(tx, fresh, view).await,
            Err(e) => Err(e),
        };
        match (together, spare) {
            (Ok(ended), _) => {
                self.starts.groups.fetch_add(1, Ordering::Relaxed);
                let n = ended.len() as u64;
                self.starts.carried.fetch_add(n, Ordering::Relaxed);
                for (answer, ended) in answers.into_iter().zip(ended) {
                    // a start whose request went away: its run stands
                    let _ = answer.send(Ok(ended));
                }
            }
            (Err(e), None) => {
                if let Some(answer) = answers.into_iter().next() {
                    let _ = answer.send(Err(e.into()));
                }
            }
            (Err(e), Some(spare)) => {
                tracing::warn!(error = %e, runs = spare.len(), "a group of starts failed; each is written on its own");
                for (rows, answer) in spare.into_iter().zip(answers) {
                    let _ = answer.send(self.carry_alone(rows, view).await);
                }
            }
        }
    }

    /// Starts the run `rows` describes in a transaction of its own: its
    /// opening evaluated again and carried, or, when none is to be carried
    /// now, the run left to the workers.
    async fn carry_alone(&self, rows: RunRows, view: bool) -> Answer {
        match self.fresh(rows).await? {
            Ok(fresh) => Ok(self.carry(fresh, view).await?),
            Err(rows) => {
                self.queue_start(rows).await?;
                Ok(Carried::default())
            }
        }
    }
}

/// What a start that went through a group is answered.
pub(super) type Answer = std::result::Result<Carried, AppError>;

/// How many of `waiting` starts go in the next group: the most that is a
/// power of two, up to [`MOST`] (the rest go in the groups after). The
/// writer connection keeps each batch it sent prepared, by its text, and
/// a group's text differs with its size: a few sizes keep that cache
/// small (every size up to 32 took the server 20 MB past its RSS target).
fn group_size(waiting: usize) -> usize {
    match waiting.min(MOST) {
        0 => 0,
        n => 1 << n.ilog2(),
    }
}

/// Lets another start lead if the leader's task ends by a panic (the
/// starts it had not taken are answered with an error, by being dropped).
struct StepDown<'a>(&'a Starts);

impl Drop for StepDown<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut q = self.0.lock();
            q.leading = false;
            q.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_group_is_the_most_waiting_starts_that_are_a_power_of_two_up_to_the_most() {
        let sizes: Vec<usize> = (0..=12).map(super::group_size).collect();
        assert_eq!(sizes, [0, 1, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 8]);
    }
}
