//! Records the store returns and the UI and API show.

use super::graph::WorkflowDef;
use super::ids::RunId;
use serde::{Deserialize, Serialize};

/// An API token as listed (the token itself is never stored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub created_by: String,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A secret as listed: its name, never its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SecretInfo {
    pub name: String,
    /// The hosts it may be sent to (`ledger.example, *.corp.example`).
    pub hosts: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// One saved version in a workflow's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct VersionInfo {
    pub version: i64,
    pub created_at: i64,
    pub created_by: String,
    /// Validation problems when it was saved (0 = runnable).
    pub problems: i64,
}

pub use super::paging::Paging;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WorkflowSummary {
    pub id: String,
    pub name: String,
    pub latest_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
    /// Validation problems of the latest version (0 = runnable).
    pub problems: i64,
    /// The version triggers and a REST start without a version run.
    #[serde(default)]
    pub published_version: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WorkflowVersion {
    pub workflow_id: String,
    pub name: String,
    pub version: i64,
    pub latest_version: i64,
    /// The workflow's published version, if one is (see `WorkflowSummary`).
    #[serde(default)]
    pub published_version: Option<i64>,
    pub definition: WorkflowDef,
    pub created_at: i64,
    pub created_by: String,
    /// What the shared validation function finds in this version (empty:
    /// it can run). Filled by the API; the engine does not need it.
    #[serde(default)]
    pub problems: Vec<crate::domain::Problem>,
}

/// `1700000000000` -> `2023-11-14 22:13 UTC`.
pub fn format_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

use super::run::{RunStatus, StepStatus};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunRecord {
    pub id: RunId,
    /// A saved version (1, 2, …), or a test run's snapshot of an unsaved
    /// working copy (−1, −2, …; see [`is_test_version`]).
    pub workflow_id: String,
    pub version: i64,
    pub status: RunStatus,
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub confidence: Option<f64>,
    pub started_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub deadline_at: Option<i64>,
    pub rerun_of: Option<RunId>,
    /// How it started.
    #[serde(default = "unknown_origin")]
    pub origin: crate::domain::run::RunOrigin,
    /// The webhook or schedule that started it.
    #[serde(default)]
    pub trigger_id: Option<String>,
    /// The run (and its Sub-workflow step) that started it.
    #[serde(default)]
    pub parent_run_id: Option<String>,
    #[serde(default)]
    pub parent_node_id: Option<String>,
    /// An item run: where it is in its For each's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemPlace>,
    /// A chaos run's faults; such a run is left out of monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaos: Option<crate::domain::chaos::ChaosPlan>,
}

/// Where an item run stands in its For each's list (its parent run and
/// step are the run's `parent_run_id` and `parent_node_id`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ItemPlace {
    /// 0-based position in the list.
    pub index: i64,
    /// The For each attempt that took the list.
    pub round: i64,
    /// The positions from the outermost For each in: "3", "3.2".
    pub path: String,
    /// The run the iteration belongs to (the nearest that is not an item).
    pub root: String,
}

/// The `Idempotency-Key` an Http step sends: `<run>:<step>`, for an item of
/// a For each `<run the iteration belongs to>:<step>:<path>` (the same
/// whichever item run carries it), and in a loop's later pass `…@<pass>`.
pub fn idempotency_key(run_id: &str, node_id: &str, item: Option<&ItemPlace>, pass: i64) -> String {
    let key = match item {
        Some(i) => format!("{}:{node_id}:{}", i.root, i.path),
        None => format!("{run_id}:{node_id}"),
    };
    if pass > 0 {
        format!("{key}@{pass}")
    } else {
        key
    }
}

impl RunRecord {
    /// Whether the run counts in monitoring and metrics: not a test run of a
    /// working copy, a golden set's case, nor a chaos run.
    pub fn monitored(&self) -> bool {
        !is_test_version(self.version)
            && self.origin != crate::domain::run::RunOrigin::Golden
            && self.chaos.is_none()
    }

    /// The For each step whose body this run executes, if it is an item run.
    pub fn body(&self) -> Option<&str> {
        self.item.as_ref().and(self.parent_node_id.as_deref())
    }
}

fn unknown_origin() -> crate::domain::run::RunOrigin {
    crate::domain::run::RunOrigin::Unknown
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StepRecord {
    pub node_id: String,
    pub status: StepStatus,
    pub attempt: i64,
    pub not_before: i64,
    pub port: Option<String>,
    pub output: Option<Value>,
    pub error_class: Option<String>,
    pub error: Option<String>,
    pub confidence: Option<f64>,
    pub cum_confidence: Option<f64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// In a bounded loop: the pass it is in (0: the first) and what it
    /// produced in each pass before (`.steps.<id>.iterations`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pass: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iterations: Vec<Value>,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AttemptRecord {
    pub node_id: String,
    pub attempt: i64,
    pub worker: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub input: Option<Value>,
    pub output: Option<Value>,
    pub outcome: String,
    pub error_class: Option<String>,
    pub error: Option<String>,
    pub confidence: Option<f64>,
    /// The pass of its loop it belonged to (0 outside loops).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pass: i64,
    /// Where its output came from (an attempt that produced one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<crate::domain::lineage::Lineage>,
    /// An LLM step's attempt: what it sent and received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_call: Option<crate::domain::llm::ModelCall>,
    /// A Code step's console lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub console: Vec<String>,
}

/// What a run's LLM steps used, summed over their attempts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ModelUsage {
    pub requests: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// None when no connection has prices.
    pub cost: Option<f64>,
}

/// A run with its steps, as the run page and `GET /api/v1/runs/{id}` show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunRecord,
    pub steps: Vec<StepRecord>,
    /// The workflow's name, and this run's number among its runs (1 for
    /// the first), so pages can say "Invoice approval · run 12".
    #[serde(default)]
    pub workflow_name: String,
    #[serde(default)]
    pub number: i64,
    /// The names of the steps of the run's version, by id.
    #[serde(default)]
    pub step_names: std::collections::BTreeMap<String, String>,
    /// Per step, how often it waited (an approval, a confidence check): a
    /// wake-up after waiting is not another attempt.
    #[serde(default)]
    pub waits: std::collections::BTreeMap<String, i64>,
    /// Per Sub-workflow step, the newest child run it started.
    #[serde(default)]
    pub children: std::collections::BTreeMap<String, String>,
    /// Per For each step, how its items stand.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub iterations: std::collections::BTreeMap<String, Iteration>,
    /// Tokens and cost of the run's LLM steps (none without any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ModelUsage>,
}

/// How a For each step's list stands (its latest attempt's list).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Iteration {
    /// The step attempt that took the list.
    pub round: i64,
    pub total: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Items not started (yet, or ever: the list stopped).
    pub waiting: u64,
}

/// One item of a For each's list and the run that carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ItemRun {
    pub index: i64,
    pub run_id: String,
    pub status: crate::domain::run::RunStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunDetail {
    /// What the step is called in its version (its id when unknown).
    pub fn name_of<'a>(&'a self, node: &'a str) -> &'a str {
        self.step_names
            .get(node)
            .map(String::as_str)
            .unwrap_or(node)
    }

    /// How many times step `s` was really tried: its attempts less its
    /// wake-ups after waiting for a person.
    pub fn attempts_of(&self, s: &StepRecord) -> i64 {
        (s.attempt - self.waits.get(&s.node_id).copied().unwrap_or(0)).max(0)
    }
}

/// What the runs list filters by; unset fields match all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunFilter {
    pub workflow_id: Option<String>,
    pub status: Option<String>,
    pub started_by: Option<String>,
    /// Milliseconds since the epoch, inclusive.
    pub from: Option<i64>,
    /// Milliseconds since the epoch, exclusive.
    pub to: Option<i64>,
    /// Text the run's input contains.
    pub q: Option<String>,
    /// Test runs of unsaved working copies only (`true`), or none of them
    /// (`false`, as figures about real work want).
    #[serde(default)]
    pub test: Option<bool>,
    /// Keyset paging: runs older than this (created_at, id).
    pub before: Option<(i64, String)>,
}

impl RunFilter {
    /// Empty strings mean "not set" (as forms send them).
    pub fn cleaned(mut self) -> Self {
        for f in [
            &mut self.workflow_id,
            &mut self.status,
            &mut self.started_by,
            &mut self.q,
        ] {
            if f.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *f = None;
            }
        }
        self
    }
}

/// One page of the runs list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunPage {
    /// Runs with their workflow's name, newest first.
    pub runs: Vec<(RunRecord, String)>,
    /// How many runs match per status (all pages).
    pub counts: Vec<(String, i64)>,
    /// Where the next page starts, if there is one.
    pub next: Option<(i64, String)>,
}

/// Whether a run's version is the snapshot of an unsaved working copy that
/// a test run ran (test runs are marked as such wherever runs are listed).
pub fn is_test_version(version: i64) -> bool {
    version < 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idempotency_key_names_the_item_and_the_pass() {
        assert_eq!(idempotency_key("run_a", "post", None, 0), "run_a:post");
        assert_eq!(idempotency_key("run_a", "post", None, 2), "run_a:post@2");
        let item = ItemPlace {
            index: 2,
            round: 1,
            path: "3.2".into(),
            root: "run_root".into(),
        };
        assert_eq!(
            idempotency_key("run_item", "post", Some(&item), 0),
            "run_root:post:3.2"
        );
        assert_eq!(
            idempotency_key("run_item", "post", Some(&item), 1),
            "run_root:post:3.2@1"
        );
    }
}
