//! Golden sets (issue 18): a workflow's test cases, each an input and what
//! must hold after a run of it, and the report of running a version against
//! them. Pure: assertions are jq, which the server evaluates in its sandbox
//! over the run's [`judge::summary`]; this module builds what they read,
//! compares outputs, judges a case and sums up a suite.

pub mod judge;
pub mod report;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest name of a case or an assertion, in characters.
pub const MAX_NAME: usize = 200;
/// Assertions per case.
pub const MAX_ASSERTIONS: usize = 50;
/// Recorded answers and decisions per case.
pub const MAX_STEPS: usize = 500;

/// A test case as a person writes it, or as it is saved from a run or a
/// decided item.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub name: String,
    /// The run input.
    #[serde(default)]
    pub input: Value,
    /// The run's output must equal this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_output: Option<Value>,
    /// The port each named step must take (a Branch's condition, a
    /// classify step's label): what per-step accuracy is measured on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expect_routes: BTreeMap<String, String>,
    /// jq over the run (see [`judge::summary`]); each must give `true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// Answers Http and LLM steps give instead of calling out, by step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recorded: BTreeMap<String, Recorded>,
    /// How approvals and confidence checks in the test run are decided,
    /// by step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub decisions: BTreeMap<String, CaseDecision>,
    /// Call out for real (recorded answers are not used).
    #[serde(default)]
    pub live: bool,
}

/// One thing that must hold after the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    pub name: String,
    /// A jq expression over the run's summary that gives `true`.
    pub jq: String,
}

/// What a step that calls out answers in a test run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub output: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The port it leaves by (a classify step's label); `out` if none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
}

/// How a person's decision is taken in a test run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum CaseDecision {
    Approve,
    Reject,
    /// Approved with this output instead of the proposed one.
    Edit {
        output: Value,
    },
}

/// A stored test case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TestCase {
    pub id: String,
    pub workflow_id: String,
    #[serde(flatten)]
    pub spec: CaseSpec,
    /// Where it was saved from (`run:<id>`, `item:<id>`), if it was.
    pub source: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
}

/// What is wrong with a case, naming the field, or nothing.
pub fn check(spec: &CaseSpec) -> Result<(), String> {
    let name = spec.name.trim();
    if name.is_empty() {
        return Err("name: give the case a name".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("name: at most {MAX_NAME} characters"));
    }
    if spec.assertions.len() > MAX_ASSERTIONS {
        return Err(format!("assertions: at most {MAX_ASSERTIONS}"));
    }
    for (i, a) in spec.assertions.iter().enumerate() {
        let at = format!("assertions[{i}]");
        if a.name.trim().is_empty() || a.name.chars().count() > MAX_NAME {
            return Err(format!("{at}.name: 1 to {MAX_NAME} characters"));
        }
        crate::domain::expr::check(&a.jq).map_err(|e| format!("{at}.jq: {e}"))?;
    }
    if spec.recorded.len() > MAX_STEPS || spec.decisions.len() > MAX_STEPS {
        return Err(format!(
            "recorded, decisions: at most {MAX_STEPS} steps each"
        ));
    }
    for (step, r) in &spec.recorded {
        if let Some(c) = r.confidence
            && !(c.is_finite() && (0.0..=1.0).contains(&c))
        {
            return Err(format!("recorded.{step}.confidence: a number from 0 to 1"));
        }
    }
    for (step, port) in &spec.expect_routes {
        if port.trim().is_empty() {
            return Err(format!(
                "expect_routes.{step}: name the port the step must take"
            ));
        }
    }
    Ok(())
}
