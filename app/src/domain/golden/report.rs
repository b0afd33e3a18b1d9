//! A golden-set run summed up: how many cases passed, each routing step's
//! accuracy, how often a person would have been asked, how it compares
//! with another version's run, and whether it clears the publish gate.

use super::judge::CaseResult;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One routing step's accuracy over the cases that name its route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StepAccuracy {
    pub step: String,
    pub correct: usize,
    pub total: usize,
    /// correct / total.
    pub accuracy: f64,
}

/// The figures of a suite, for comparing two of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Totals {
    /// How many cases were judged.
    pub total: usize,
    pub passed: usize,
    /// passed / cases, in percent (100 with no cases).
    pub pass_pct: f64,
    /// Cases where a person would have been asked, in percent.
    pub escalation_pct: f64,
    pub steps: Vec<StepAccuracy>,
}

/// Sums up the judged cases.
pub fn totals(cases: &[CaseResult]) -> Totals {
    let n = cases.len();
    let passed = cases.iter().filter(|c| c.passed).count();
    let asked = cases.iter().filter(|c| c.asked).count();
    let pct = |k: usize| {
        if n == 0 {
            100.0
        } else {
            k as f64 * 100.0 / n as f64
        }
    };
    let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in cases.iter().flat_map(|c| &c.routes) {
        let e = per.entry(&r.step).or_default();
        e.1 += 1;
        if r.actual.as_deref() == Some(r.expected.as_str()) {
            e.0 += 1;
        }
    }
    Totals {
        total: n,
        passed,
        pass_pct: pct(passed),
        escalation_pct: if n == 0 { 0.0 } else { pct(asked) },
        steps: per
            .into_iter()
            .map(|(step, (correct, total))| StepAccuracy {
                step: step.to_string(),
                correct,
                total,
                accuracy: correct as f64 / total as f64,
            })
            .collect(),
    }
}

/// Whether a suite's figures clear a gate of `min_pass_pct` (100: every
/// case), or what falls short, naming the failed cases.
pub fn gate(cases: &[CaseResult], min_pass_pct: f64) -> Result<(), String> {
    let t = totals(cases);
    if t.pass_pct + 1e-9 >= min_pass_pct {
        return Ok(());
    }
    let failed: Vec<String> = cases
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("'{}'", c.name))
        .collect();
    Err(format!(
        "the golden set passed {} of {} cases ({:.0} %), below the {:.0} % publishing requires; failed: {}",
        t.passed,
        t.total,
        t.pass_pct,
        min_pass_pct,
        failed.join(", ")
    ))
}

/// A suite started: its id and how many cases it runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SuiteStarted {
    pub suite_id: String,
    pub version: i64,
    pub cases: usize,
}

/// How a suite did so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SuiteReport {
    pub suite_id: String,
    pub workflow_id: String,
    pub version: i64,
    pub started_at: i64,
    pub started_by: String,
    /// Every case judged.
    pub finished: bool,
    /// Cases whose test run has not ended yet.
    pub pending: usize,
    #[serde(flatten)]
    pub totals: Totals,
    pub cases: Vec<CaseResult>,
    /// The published version's newest finished suite, when this one ran
    /// another version: what publishing this one would change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Compared>,
}

/// Another suite's figures, beside this one's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Compared {
    pub suite_id: String,
    pub version: i64,
    #[serde(flatten)]
    pub totals: Totals,
}
