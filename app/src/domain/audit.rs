//! Audit events: who did what to which entity, and when.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who acted. Until accounts exist every person is `anonymous`; the engine
/// acts as `engine`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub run_id: Option<String>,
    pub details: Value,
}
