//! Monitoring a workflow (or one of its steps) over time: runs and their
//! outcomes, failure rate, duration percentiles, escalations by reason,
//! what people decided, and confidence with its drift against a baseline.
//! Pure: the store reads the points, this sums them into buckets.

pub mod alerts;
pub mod stats;

use crate::domain::run::RunStatus;
use serde::{Deserialize, Serialize};
use stats::{BINS, histogram, percentile, psi, rate};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// At most this many buckets in one answer.
pub const MAX_BUCKETS: i64 = 24 * 31;

/// How long each bucket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn ms(self) -> i64 {
        match self {
            Granularity::Hour => HOUR_MS,
            Granularity::Day => DAY_MS,
        }
    }
}

/// A run (or, for a step, its step in a run): when the run started, how
/// it stands, how long it took once ended, and how sure it was.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPoint {
    pub at: i64,
    pub status: RunStatus,
    pub ms: Option<i64>,
    pub confidence: Option<f64>,
}

/// How an item ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemOutcome {
    Open,
    /// Approved as proposed.
    Approved,
    /// Approved with the output edited.
    Edited,
    Rejected,
    Cancelled,
}

/// An approval item: when it was opened, why, and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemPoint {
    pub at: i64,
    /// True for a confidence gate's escalation, false for an Approval step.
    pub gate: bool,
    pub outcome: ItemOutcome,
}

/// The figures of one bucket (or of the whole range).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Bucket {
    /// Where it starts (ms since epoch, UTC).
    pub start: i64,
    /// Runs started in it.
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Still running.
    pub running: u64,
    /// failed / ended, in percent.
    pub failure_pct: Option<f64>,
    /// Duration of the ended runs, ms.
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    /// Items opened by Approval steps, and by confidence gates.
    pub approvals: u64,
    pub escalations: u64,
    /// Confidence-gate items per 100 runs.
    pub escalation_pct: Option<f64>,
    /// All items per 100 runs.
    pub asked_pct: Option<f64>,
}

/// What people decided on the range's items.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Decisions {
    pub approved: u64,
    pub edited: u64,
    pub rejected: u64,
    pub open: u64,
    /// edited / decided, in percent: how often people had to correct the output.
    pub edit_pct: Option<f64>,
}

/// Confidence in the range against a baseline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Confidence {
    /// Counts in ten equal bins over [0, 1].
    pub current: Vec<u64>,
    pub baseline: Vec<u64>,
    /// What the baseline is ("the previous 7 days", "the golden set").
    pub baseline_label: String,
    /// Population stability index of the range against the baseline
    /// (None with fewer than 20 values on a side).
    pub psi: Option<f64>,
    /// stable, moderate shift or significant shift.
    pub reading: Option<String>,
}

/// A workflow's (or step's) figures over a range.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Figures {
    pub from: i64,
    pub to: i64,
    pub granularity: Option<Granularity>,
    pub buckets: Vec<Bucket>,
    pub total: Bucket,
    pub decisions: Decisions,
    pub confidence: Confidence,
}

/// What to compare the range's confidence with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// The period of the same length just before the range.
    #[default]
    Previous,
    /// The runs of the newest golden-set run (without faults).
    Golden,
}

/// The monitoring page's answer: the figures, the alert rules and how
/// each stands, and notices that could not be delivered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Monitoring {
    pub workflow_id: String,
    pub step: Option<String>,
    pub figures: Figures,
    pub rules: Vec<alerts::AlertRule>,
    /// Undelivered notices: (rule, attempts, last error).
    pub undelivered: Vec<(String, i64, Option<String>)>,
}

/// Where the bucket holding `at` starts.
pub fn bucket_start(at: i64, g: Granularity) -> i64 {
    at.div_euclid(g.ms()) * g.ms()
}

/// Sums `runs` and `items` (those started in [from, to)) into buckets, and
/// compares the runs' confidence with `baseline`.
pub fn figures(
    from: i64,
    to: i64,
    g: Granularity,
    runs: &[RunPoint],
    items: &[ItemPoint],
    baseline: &[f64],
    baseline_label: &str,
) -> Figures {
    let first = bucket_start(from, g);
    let n = (((to - first).max(0) + g.ms() - 1) / g.ms()).clamp(0, MAX_BUCKETS) as usize;
    let index = |at: i64| {
        let i = (at - first).div_euclid(g.ms());
        (at >= from && at < to && (0..n as i64).contains(&i)).then_some(i as usize)
    };
    let mut buckets: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start: first + i as i64 * g.ms(),
            ..Default::default()
        })
        .collect();
    let mut durations: Vec<Vec<i64>> = vec![Vec::new(); n];
    let mut total = Bucket {
        start: from,
        ..Default::default()
    };
    let mut all_durations = Vec::new();
    for r in runs {
        let Some(i) = index(r.at) else { continue };
        for b in [&mut buckets[i], &mut total] {
            b.runs += 1;
            match r.status {
                RunStatus::Succeeded => b.succeeded += 1,
                RunStatus::Failed => b.failed += 1,
                RunStatus::Cancelled => b.cancelled += 1,
                RunStatus::Running => b.running += 1,
            }
        }
        if let Some(ms) = r.ms.filter(|_| r.status != RunStatus::Running) {
            durations[i].push(ms.max(0));
            all_durations.push(ms.max(0));
        }
    }
    let mut decisions = Decisions::default();
    for it in items {
        let Some(i) = index(it.at) else { continue };
        for b in [&mut buckets[i], &mut total] {
            if it.gate {
                b.escalations += 1;
            } else {
                b.approvals += 1;
            }
        }
        match it.outcome {
            ItemOutcome::Open => decisions.open += 1,
            ItemOutcome::Approved => decisions.approved += 1,
            ItemOutcome::Edited => decisions.edited += 1,
            ItemOutcome::Rejected => decisions.rejected += 1,
            ItemOutcome::Cancelled => {}
        }
    }
    let decided = decisions.approved + decisions.edited + decisions.rejected;
    decisions.edit_pct = rate(decisions.edited, decided);
    for (b, d) in buckets.iter_mut().zip(durations.iter_mut()) {
        rates(b, d);
    }
    rates(&mut total, &mut all_durations);
    let current = histogram(
        runs.iter()
            .filter(|r| index(r.at).is_some())
            .filter_map(|r| r.confidence),
    );
    let base = histogram(baseline.iter().copied());
    let drift = psi(&base, &current);
    Figures {
        from,
        to,
        granularity: Some(g),
        buckets,
        total,
        decisions,
        confidence: Confidence {
            current: current.to_vec(),
            baseline: base.to_vec(),
            baseline_label: baseline_label.to_string(),
            psi: drift,
            reading: drift.map(|p| stats::drift_reading(p).to_string()),
        },
    }
}

/// Fills a bucket's rates and percentiles from its counts and durations.
fn rates(b: &mut Bucket, durations: &mut [i64]) {
    let ended = b.succeeded + b.failed + b.cancelled;
    b.failure_pct = rate(b.failed, ended);
    durations.sort_unstable();
    b.p50_ms = percentile(durations, 50.0);
    b.p95_ms = percentile(durations, 95.0);
    b.escalation_pct = rate(b.escalations, b.runs);
    b.asked_pct = rate(b.escalations + b.approvals, b.runs);
}

/// A histogram's length is [`BINS`].
pub const CONFIDENCE_BINS: usize = BINS;

#[cfg(test)]
mod tests;
