//! The legal moves of steps, runs and approval items: one table each. The
//! store's status updates take their `WHERE status IN (…)` guard and their
//! new status from here (`Step::guard`, `target`), so a move the table
//! forbids cannot be written by any path.

use super::run::{ItemStatus, RunStatus, StepStatus};
use std::fmt::Display;

/// Something that happens to a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepEvent {
    /// All incoming paths resolved and at least one was taken (or a
    /// queued compensation's turn came).
    Activate,
    /// All incoming paths resolved and none was taken.
    Skip,
    /// A worker took it: a ready step, or a parked one whose time came.
    Claim,
    /// The runner finished with a result.
    Succeed,
    /// The runner failed and the policy allows another attempt.
    FailRetry,
    /// The runner failed for good (or its worker died too often).
    Fail,
    /// The runner parked the step (timer, person).
    Park,
    /// The lease ran out (the worker died): try again as a new attempt.
    LeaseExpired,
    /// The run ended (cancelled, failed elsewhere, timed out).
    Cancel,
    /// A person asked to run a failed step again.
    Retry,
    /// A step the failure cancelled waits again after a retry.
    Resume,
    /// A loop goes round again: a step of it (or one its last pass
    /// skipped) waits for its next pass.
    Repeat,
}

impl StepEvent {
    pub const ALL: [StepEvent; 12] = [
        StepEvent::Activate,
        StepEvent::Skip,
        StepEvent::Claim,
        StepEvent::Succeed,
        StepEvent::FailRetry,
        StepEvent::Fail,
        StepEvent::Park,
        StepEvent::LeaseExpired,
        StepEvent::Cancel,
        StepEvent::Retry,
        StepEvent::Resume,
        StepEvent::Repeat,
    ];
}

/// The step state machine: the new status, or `None` when the event does
/// not apply in this state.
pub fn step_transition(from: StepStatus, event: StepEvent) -> Option<StepStatus> {
    use StepEvent as E;
    use StepStatus as S;
    Some(match (from, event) {
        (S::Pending, E::Activate) => S::Ready,
        (S::Pending, E::Skip) => S::Skipped,
        (S::Ready | S::Waiting, E::Claim) => S::Running,
        (S::Running, E::Succeed) => S::Succeeded,
        (S::Running, E::FailRetry) => S::Ready,
        (S::Running, E::Fail) => S::Failed,
        (S::Running, E::Park) => S::Waiting,
        (S::Running, E::LeaseExpired) => S::Ready,
        (S::Pending | S::Ready | S::Running | S::Waiting, E::Cancel) => S::Cancelled,
        (S::Failed, E::Retry) => S::Ready,
        (S::Cancelled, E::Resume) => S::Pending,
        (S::Succeeded | S::Failed | S::Skipped, E::Repeat) => S::Pending,
        _ => return None,
    })
}

/// Something that happens to a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunEvent {
    /// Its End steps were reached and nothing is left.
    Succeed,
    /// A step failed with nowhere to go, or the deadline passed.
    Fail,
    /// A person (or token) cancelled it.
    Cancel,
    /// A failed step was retried.
    Reopen,
}

impl RunEvent {
    pub const ALL: [RunEvent; 4] = [
        RunEvent::Succeed,
        RunEvent::Fail,
        RunEvent::Cancel,
        RunEvent::Reopen,
    ];
}

pub fn run_transition(from: RunStatus, event: RunEvent) -> Option<RunStatus> {
    use RunEvent as E;
    use RunStatus as R;
    Some(match (from, event) {
        (R::Running, E::Succeed) => R::Succeeded,
        (R::Running, E::Fail) => R::Failed,
        (R::Running, E::Cancel) => R::Cancelled,
        (R::Failed, E::Reopen) => R::Running,
        _ => return None,
    })
}

/// Something that happens to an approval item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemEvent {
    /// Enough approvals (or the deadline's automatic approval).
    Approve,
    /// A rejection (or the deadline's).
    Reject,
    /// Its run ended first.
    Cancel,
}

impl ItemEvent {
    pub const ALL: [ItemEvent; 3] = [ItemEvent::Approve, ItemEvent::Reject, ItemEvent::Cancel];
}

pub fn item_transition(from: ItemStatus, event: ItemEvent) -> Option<ItemStatus> {
    use ItemEvent as E;
    use ItemStatus as I;
    Some(match (from, event) {
        (I::Pending, E::Approve) => I::Approved,
        (I::Pending, E::Reject) => I::Rejected,
        (I::Pending, E::Cancel) => I::Cancelled,
        _ => return None,
    })
}

/// A state machine as the store needs it: for an event, the states it may
/// start from (the SQL guard) and the one state it leads to.
pub trait Machine: Copy + 'static {
    type Status: Copy + PartialEq + Display + 'static;
    const STATES: &'static [Self::Status];
    fn apply(from: Self::Status, event: Self) -> Option<Self::Status>;

    fn sources(self) -> Vec<Self::Status> {
        Self::STATES
            .iter()
            .copied()
            .filter(|s| Self::apply(*s, self).is_some())
            .collect()
    }

    /// The state the event leads to (every event of these machines has
    /// exactly one; a test checks it).
    fn target(self) -> Self::Status {
        Self::STATES
            .iter()
            .find_map(|s| Self::apply(*s, self))
            .expect("every event leads somewhere")
    }

    /// `<column> IN ('a', 'b')`: the rows this event may move.
    fn guard(self, column: &str) -> String {
        let list: Vec<String> = self.sources().iter().map(|s| format!("'{s}'")).collect();
        format!("{column} IN ({})", list.join(", "))
    }

    /// `<column> = 'target'`.
    fn set(self, column: &str) -> String {
        format!("{column} = '{}'", self.target())
    }
}

impl Machine for StepEvent {
    type Status = StepStatus;
    const STATES: &'static [StepStatus] = &StepStatus::ALL;
    fn apply(from: StepStatus, event: Self) -> Option<StepStatus> {
        step_transition(from, event)
    }
}

impl Machine for RunEvent {
    type Status = RunStatus;
    const STATES: &'static [RunStatus] = &RunStatus::ALL;
    fn apply(from: RunStatus, event: Self) -> Option<RunStatus> {
        run_transition(from, event)
    }
}

impl Machine for ItemEvent {
    type Status = ItemStatus;
    const STATES: &'static [ItemStatus] = &ItemStatus::ALL;
    fn apply(from: ItemStatus, event: Self) -> Option<ItemStatus> {
        item_transition(from, event)
    }
}

/// The event that ends a run with `status` (None for `running`).
pub fn run_end_event(status: RunStatus) -> Option<RunEvent> {
    match status {
        RunStatus::Running => None,
        RunStatus::Succeeded => Some(RunEvent::Succeed),
        RunStatus::Failed => Some(RunEvent::Fail),
        RunStatus::Cancelled => Some(RunEvent::Cancel),
    }
}

#[cfg(test)]
#[path = "transitions_tests.rs"]
mod tests;
