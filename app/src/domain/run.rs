//! Run and step states and the legal moves between them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Waiting for its incoming paths to resolve.
    Pending,
    /// May be claimed by a worker once `not_before` has passed.
    Ready,
    /// Claimed by a worker holding a lease.
    Running,
    /// Parked without a worker: a durable timer or a person.
    Waiting,
    Succeeded,
    Failed,
    /// Only reachable through edges that were not taken.
    Skipped,
    Cancelled,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident = $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(<$t>::$v),)* _ => None }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(RunStatus {
    Running = "running",
    Succeeded = "succeeded",
    Failed = "failed",
    Cancelled = "cancelled",
});

str_enum!(StepStatus {
    Pending = "pending",
    Ready = "ready",
    Running = "running",
    Waiting = "waiting",
    Succeeded = "succeeded",
    Failed = "failed",
    Skipped = "skipped",
    Cancelled = "cancelled",
});

impl RunStatus {
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Running)
    }
}

impl StepStatus {
    pub const ALL: [StepStatus; 8] = [
        StepStatus::Pending,
        StepStatus::Ready,
        StepStatus::Running,
        StepStatus::Waiting,
        StepStatus::Succeeded,
        StepStatus::Failed,
        StepStatus::Skipped,
        StepStatus::Cancelled,
    ];

    pub fn is_final(self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded
                | StepStatus::Failed
                | StepStatus::Skipped
                | StepStatus::Cancelled
        )
    }

    /// Still has work ahead (keeps the run open).
    pub fn is_open(self) -> bool {
        !self.is_final()
    }
}

/// Something that happens to a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepEvent {
    /// All incoming paths resolved and at least one was taken.
    Activate,
    /// All incoming paths resolved and none was taken.
    Skip,
    /// A worker took it.
    Claim,
    /// The runner finished with a result.
    Succeed,
    /// The runner failed and the policy allows another attempt.
    FailRetry,
    /// The runner failed for good.
    Fail,
    /// The runner parked the step (timer, person).
    Park,
    /// The timer fired or the person decided: hand it back to a worker.
    Wake,
    /// The lease ran out (the worker died): try again as a new attempt.
    LeaseExpired,
    /// The run was cancelled or failed elsewhere.
    Cancel,
    /// A person asked to run a failed step again.
    Retry,
}

impl StepEvent {
    pub const ALL: [StepEvent; 11] = [
        StepEvent::Activate,
        StepEvent::Skip,
        StepEvent::Claim,
        StepEvent::Succeed,
        StepEvent::FailRetry,
        StepEvent::Fail,
        StepEvent::Park,
        StepEvent::Wake,
        StepEvent::LeaseExpired,
        StepEvent::Cancel,
        StepEvent::Retry,
    ];
}

/// The step state machine: the new status, or `None` when the event does
/// not apply in this state (the caller treats that as a stale event).
pub fn step_transition(from: StepStatus, event: StepEvent) -> Option<StepStatus> {
    use StepEvent as E;
    use StepStatus as S;
    Some(match (from, event) {
        (S::Pending, E::Activate) => S::Ready,
        (S::Pending, E::Skip) => S::Skipped,
        (S::Ready, E::Claim) => S::Running,
        (S::Running, E::Succeed) => S::Succeeded,
        (S::Running, E::FailRetry) => S::Ready,
        (S::Running, E::Fail) => S::Failed,
        (S::Running, E::Park) => S::Waiting,
        (S::Running, E::LeaseExpired) => S::Ready,
        (S::Waiting, E::Wake) => S::Ready,
        (S::Pending | S::Ready | S::Running | S::Waiting, E::Cancel) => S::Cancelled,
        (S::Failed | S::Cancelled, E::Retry) => S::Ready,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (state, event) pair, spelled out: a change to the machine must
    /// change this table too.
    #[test]
    fn every_state_event_pair() {
        use StepEvent as E;
        use StepStatus as S;
        let allowed: &[(S, E, S)] = &[
            (S::Pending, E::Activate, S::Ready),
            (S::Pending, E::Skip, S::Skipped),
            (S::Pending, E::Cancel, S::Cancelled),
            (S::Ready, E::Claim, S::Running),
            (S::Ready, E::Cancel, S::Cancelled),
            (S::Running, E::Succeed, S::Succeeded),
            (S::Running, E::FailRetry, S::Ready),
            (S::Running, E::Fail, S::Failed),
            (S::Running, E::Park, S::Waiting),
            (S::Running, E::LeaseExpired, S::Ready),
            (S::Running, E::Cancel, S::Cancelled),
            (S::Waiting, E::Wake, S::Ready),
            (S::Waiting, E::Cancel, S::Cancelled),
            (S::Failed, E::Retry, S::Ready),
            (S::Cancelled, E::Retry, S::Ready),
        ];
        let mut checked = 0;
        for from in StepStatus::ALL {
            for event in StepEvent::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                assert_eq!(step_transition(from, event), expected, "{from} + {event:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 8 * 11);
    }

    #[test]
    fn final_states_accept_only_retry() {
        for s in StepStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for e in StepEvent::ALL {
                if let Some(to) = step_transition(s, e) {
                    assert_eq!((e, to), (StepEvent::Retry, StepStatus::Ready), "{s}");
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in StepStatus::ALL {
            assert_eq!(StepStatus::parse(s.as_str()), Some(s));
        }
        for r in [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Cancelled,
        ] {
            assert_eq!(RunStatus::parse(r.as_str()), Some(r));
        }
        assert_eq!(StepStatus::parse("nope"), None);
    }
}
