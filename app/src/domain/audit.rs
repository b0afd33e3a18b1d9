//! Audit events: who did what to which entity, and when.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who acted. Until accounts exist every person is `anonymous`; the engine
/// acts as `engine`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Actor(pub String);

impl Actor {
    pub fn anonymous() -> Self {
        Actor("anonymous".into())
    }
    pub fn system() -> Self {
        Actor("system".into())
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub mod action {
    pub const WORKFLOW_CREATED: &str = "workflow.created";
    pub const WORKFLOW_VERSION_SAVED: &str = "workflow.version_saved";
    pub const WORKFLOW_RENAMED: &str = "workflow.renamed";
    pub const WORKFLOW_DELETED: &str = "workflow.deleted";
    pub const WORKFLOW_PUBLISHED: &str = "workflow.published";
    pub const WORKFLOW_UNPUBLISHED: &str = "workflow.unpublished";
    pub const WORKFLOW_RETENTION: &str = "workflow.retention_set";
    pub const TRIGGER_CREATED: &str = "trigger.created";
    pub const TRIGGER_UPDATED: &str = "trigger.updated";
    pub const TRIGGER_DELETED: &str = "trigger.deleted";
    pub const TRIGGER_PAUSED: &str = "trigger.paused";
    pub const TRIGGER_RESUMED: &str = "trigger.resumed";
    pub const TRIGGER_KEY_ROTATED: &str = "trigger.key_rotated";
    pub const TRIGGER_KEY_RETIRED: &str = "trigger.key_retired";
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct NewAuditEvent {
    pub at: i64,
    pub actor: String,
    pub action: String,
    /// `workflow:<id>`, `run:<id>`, ...
    pub entity: String,
    pub run_id: Option<String>,
    pub details: Value,
}

impl NewAuditEvent {
    /// An event about `entity` (`workflow:<id>`, ...).
    pub fn new(at: i64, actor: &str, action: &str, entity: String, details: Value) -> Self {
        NewAuditEvent {
            at,
            actor: actor.into(),
            action: action.into(),
            entity,
            run_id: None,
            details,
        }
    }

    /// An event about a run, findable by its run id.
    pub fn run(at: i64, actor: &str, action: &str, run_id: &str, details: Value) -> Self {
        NewAuditEvent {
            run_id: Some(run_id.into()),
            ..Self::new(at, actor, action, format!("run:{run_id}"), details)
        }
    }
}

/// What verifying the hash chain found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct VerifyReport {
    /// Events checked (before the break, if there is one).
    pub events: i64,
    /// The first sequence number where the chain breaks, if it does.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
    /// The newest event and its hash as `seq:hash` (when intact). The chain
    /// alone cannot show that the newest events were removed; kept outside
    /// the database and given back as an anchor, this can.
    #[serde(default)]
    pub head: Option<String>,
}

/// An anchor (`seq:hash`, as `VerifyReport::head` gives it): the event
/// that must still be in the trail with exactly that hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl Anchor {
    pub fn parse(s: &str) -> Result<Anchor, String> {
        let bad = || {
            format!(
                "the anchor '{}' is not of the form SEQ:HASH (e.g. 42:9f86d0…, as verify printed it)",
                s.trim()
            )
        };
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.trim().parse().map_err(|_| bad())?;
        let hash = hash.trim().to_ascii_lowercase();
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Anchor { seq, hash })
    }
}

/// What the audit page and export filter by; unset fields match all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// `workflow:<id>`, `run:<id>`, `user:<id>`, ...
    pub entity: Option<String>,
    pub run_id: Option<String>,
    /// Milliseconds since the epoch, inclusive.
    pub from: Option<i64>,
    /// Milliseconds since the epoch, exclusive.
    pub to: Option<i64>,
    /// For paging: only events older than this sequence number.
    pub before_seq: Option<i64>,
}

impl AuditFilter {
    /// Empty strings mean "not set" (as forms send them).
    pub fn cleaned(mut self) -> Self {
        for f in [
            &mut self.actor,
            &mut self.action,
            &mut self.entity,
            &mut self.run_id,
        ] {
            if f.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *f = None;
            }
        }
        self
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AuditEvent {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub run_id: Option<String>,
    pub details: Value,
}
