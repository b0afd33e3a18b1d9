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
