//! Records the store returns and the UI and API show.

use super::graph::WorkflowDef;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSummary {
    pub id: String,
    pub name: String,
    pub latest_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
    /// Validation problems of the latest version (0 = runnable).
    pub problems: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowVersion {
    pub workflow_id: String,
    pub name: String,
    pub version: i64,
    pub latest_version: i64,
    pub definition: WorkflowDef,
    pub created_at: i64,
    pub created_by: String,
}

/// `1700000000000` -> `2023-11-14 22:13 UTC`.
pub fn format_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into())
}
