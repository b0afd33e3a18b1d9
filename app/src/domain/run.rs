//! Run, step and approval-item states (the moves between them are in
//! `transitions`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
pub(crate) use str_enum;

/// How a run started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunOrigin {
    /// Run in the browser.
    Manual,
    /// The REST API.
    Api,
    /// A re-run of an earlier run.
    Rerun,
    /// A test run of an unsaved working copy.
    Test,
    /// A webhook delivery.
    Webhook,
    /// A schedule's fire.
    Schedule,
    /// A Sub-workflow step of a parent run.
    Parent,
    /// An item of a For each step of a parent run.
    Item,
    /// A case of a golden set: steps that call out answer from the case.
    Golden,
    /// Started before the origin was recorded.
    Unknown,
}

impl RunOrigin {
    /// How a person reads it: "in the browser", "through the API", ...
    pub fn describe(self) -> &'static str {
        match self {
            RunOrigin::Manual => "in the browser",
            RunOrigin::Api => "through the API",
            RunOrigin::Rerun => "as a re-run",
            RunOrigin::Test => "as a test run",
            RunOrigin::Webhook => "by a webhook",
            RunOrigin::Schedule => "on a schedule",
            RunOrigin::Parent => "by a parent run",
            RunOrigin::Item => "for an item of a For each",
            RunOrigin::Golden => "for a case of the golden set",
            RunOrigin::Unknown => "",
        }
    }
}

str_enum!(RunOrigin {
    Manual = "manual",
    Api = "api",
    Rerun = "rerun",
    Test = "test",
    Webhook = "webhook",
    Schedule = "schedule",
    Parent = "parent",
    Item = "item",
    Golden = "golden",
    Unknown = "unknown",
});

/// Where an approval item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Waiting for people (or its deadline).
    Pending,
    Approved,
    Rejected,
    /// Its run ended before anyone decided it.
    Cancelled,
}

str_enum!(ItemStatus {
    Pending = "pending",
    Approved = "approved",
    Rejected = "rejected",
    Cancelled = "cancelled",
});

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

/// Steps that undo a completed reversible step are queued in the steps
/// table under `<node id>~compensate` (`~` never appears in a node id).
pub const COMPENSATE_SUFFIX: &str = "~compensate";

/// The node a compensation step undoes, if `step_id` is one.
pub fn compensated_node(step_id: &str) -> Option<&str> {
    step_id.strip_suffix(COMPENSATE_SUFFIX)
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 4] = [
        ItemStatus::Pending,
        ItemStatus::Approved,
        ItemStatus::Rejected,
        ItemStatus::Cancelled,
    ];
}

impl RunStatus {
    pub const ALL: [RunStatus; 4] = [
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in StepStatus::ALL {
            assert_eq!(StepStatus::parse(s.as_str()), Some(s));
        }
        for r in RunStatus::ALL {
            assert_eq!(RunStatus::parse(r.as_str()), Some(r));
        }
        for i in ItemStatus::ALL {
            assert_eq!(ItemStatus::parse(i.as_str()), Some(i));
            let json = serde_json::to_value(i).unwrap();
            assert_eq!(json, serde_json::json!(i.as_str()));
        }
        assert_eq!(StepStatus::parse("nope"), None);
    }
}
