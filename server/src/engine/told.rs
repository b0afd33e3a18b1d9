//! What a completion transaction changed that others wait on, told once
//! it has committed.

use super::Engine;
use app::domain::records::RunRecord;
use app::store::runs as store;

/// What one completion transaction changed that others wait on. Kept per
/// transaction: a flag shared by all workers could be taken by another
/// worker's commit before this one's, which then told nobody (a long poll
/// for the run's end waited out its full time).
#[derive(Default)]
pub(super) struct Told {
    pub(super) inbox_changed: bool,
    pub(super) run_ended: bool,
    /// For the metrics: each attempt recorded, and how the run ended.
    pub(super) seen: Vec<super::observe::Seen>,
    pub(super) ended: Option<app::domain::run::RunStatus>,
    /// Step-log rows kept to be written together before the commit (the
    /// claimed step's and its pure stretch's), rather than one statement
    /// each.
    pub(super) attempts: Option<Vec<store::AttemptRow>>,
    /// The run's steps, with the changes to the ones made ready or
    /// finished in this transaction kept to be written together (the
    /// claimed step's and its pure stretch's).
    pub(super) steps: Option<store::StepWrites>,
}

impl Engine {
    /// Tells those waiting what a committed completion of a step of `run`
    /// changed.
    pub(super) fn tell(&self, run: &RunRecord, run_id: &app::domain::ids::RunId, told: Told) {
        // test, golden and chaos runs are left out of the figures
        if run.monitored() {
            super::observe::count(&run.workflow_id, &told.seen, told.ended);
        }
        // a run that succeeded with nobody waiting on it left nothing due
        let finished = told.ended == Some(app::domain::run::RunStatus::Succeeded)
            && run.parent_run_id.is_none();
        if !finished {
            self.wake();
        }
        if told.inbox_changed {
            self.changes.notify("approvals");
        }
        if told.ended.is_some() {
            // before `run:<id>`: a long poll for the end needs no look
            self.changes
                .hint_here(&super::waits::ended_topic(run_id.as_str()));
        }
        self.changes.notify(format!("run:{run_id}"));
        if told.run_ended {
            self.run_ended.notify_waiters();
        }
    }
}
