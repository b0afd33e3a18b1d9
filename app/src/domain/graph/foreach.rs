//! A For each step's settings: the list, how many items run at once, how
//! many may fail, and whether the results are gathered into its output.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ForEachConfig {
    /// jq over the run context that gives the list (an array).
    pub items: String,
    /// How many items run at once (1 to `MAX_CONCURRENCY`).
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// How many items may fail before the step fails and the rest are
    /// cancelled (none given: not one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failures: Option<u64>,
    /// The same as a percentage of the items (0 to 100); with both, the
    /// larger allowance holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerated_failure_percent: Option<f64>,
    /// Gather every item's output, in item order, into `results`. Off for
    /// lists too long for one value: the output then has the counts, and
    /// the results are read a page at a time from the API.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub collect_results: bool,
}

pub const DEFAULT_CONCURRENCY: u32 = 4;
pub const MAX_CONCURRENCY: u32 = 100;
/// The longest list whose results are gathered into one output.
pub const MAX_COLLECTED_ITEMS: usize = 10_000;
/// The longest list a For each takes at all.
pub const MAX_ITEMS: usize = 100_000;
/// How deep For each bodies may nest.
pub const MAX_NESTING: usize = 4;

fn default_concurrency() -> u32 {
    DEFAULT_CONCURRENCY
}
fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

impl ForEachConfig {
    pub fn over(items: &str) -> Self {
        ForEachConfig {
            items: items.into(),
            concurrency: DEFAULT_CONCURRENCY,
            tolerated_failures: None,
            tolerated_failure_percent: None,
            collect_results: true,
        }
    }

    /// How many of `total` items may fail without failing the step.
    pub fn allowed_failures(&self, total: u64) -> u64 {
        let by_count = self.tolerated_failures.unwrap_or(0);
        let by_percent = self
            .tolerated_failure_percent
            .map(|p| ((p.clamp(0.0, 100.0) / 100.0) * total as f64).floor() as u64)
            .unwrap_or(0);
        by_count.max(by_percent)
    }

    /// The longest list this step takes.
    pub fn max_items(&self) -> usize {
        if self.collect_results {
            MAX_COLLECTED_ITEMS
        } else {
            MAX_ITEMS
        }
    }
}
