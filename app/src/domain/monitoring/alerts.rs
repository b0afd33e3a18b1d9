//! Alert rules: what each measures over its window, when it starts and
//! stops firing, what the notice says, and which rules are refused.

use super::stats::{histogram, psi, rate};
use super::{ItemPoint, RunPoint};
use crate::domain::run::RunStatus;
use serde::{Deserialize, Serialize};

/// What a rule watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Confidence-gate escalations per 100 runs started in the window.
    EscalationRate,
    /// Failed runs per 100 that ended in the window.
    FailureRate,
    /// Population stability index of run confidence in the window against
    /// the window before it.
    Drift,
    /// Minutes the oldest open item of the workflow has waited.
    OldestWaiting,
}

crate::domain::run::str_enum!(Metric {
    EscalationRate = "escalation_rate",
    FailureRate = "failure_rate",
    Drift = "drift",
    OldestWaiting = "oldest_waiting",
});

impl Metric {
    /// How a person reads it, with the unit of its threshold.
    pub fn describe(self) -> &'static str {
        match self {
            Metric::EscalationRate => "escalation rate (%)",
            Metric::FailureRate => "failure rate (%)",
            Metric::Drift => "confidence drift (PSI)",
            Metric::OldestWaiting => "oldest waiting item (minutes)",
        }
    }

    /// A value as the notice and banner show it.
    pub fn show(self, v: f64) -> String {
        match self {
            Metric::EscalationRate | Metric::FailureRate => format!("{v:.1} %"),
            Metric::Drift => format!("{v:.3}"),
            Metric::OldestWaiting => format!("{v:.0} min"),
        }
    }
}

/// A rule as it is written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub metric: Metric,
    /// Fires while the value is above this.
    pub threshold: f64,
    /// Measured over the last this many minutes (5 to 10,080).
    pub window_minutes: i64,
    /// Rates and drift need at least this many runs in the window (1 by default).
    #[serde(default = "one")]
    pub min_runs: i64,
    /// A Slack-compatible incoming webhook told when it starts and stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

fn one() -> i64 {
    1
}

/// A stored rule and how it stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AlertRule {
    pub id: String,
    pub workflow_id: String,
    #[serde(flatten)]
    pub spec: RuleSpec,
    pub created_at: i64,
    pub created_by: String,
    /// Firing since then; None while quiet.
    pub firing_since: Option<i64>,
    /// The value at the last check (None: not enough data).
    pub last_value: Option<f64>,
    pub checked_at: Option<i64>,
}

impl RuleSpec {
    /// What is wrong with the rule, each saying what to fix.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let t = self.threshold;
        let max = match self.metric {
            Metric::EscalationRate | Metric::FailureRate => 100.0,
            Metric::Drift => 10.0,
            Metric::OldestWaiting => 525_600.0,
        };
        if !(t.is_finite() && (0.0..max).contains(&t)) {
            out.push(format!(
                "threshold for the {} must be at least 0 and below {max}, not {t}",
                self.metric.describe()
            ));
        }
        if !(5..=10_080).contains(&self.window_minutes) {
            out.push(format!(
                "window_minutes must be 5 to 10080 (a week), not {}",
                self.window_minutes
            ));
        }
        if !(1..=100_000).contains(&self.min_runs) {
            out.push(format!(
                "min_runs must be 1 to 100000, not {}",
                self.min_runs
            ));
        }
        if let Some(url) = &self.webhook_url
            && let Err(e) = crate::domain::outbound::check_webhook_url(url)
        {
            out.push(format!("webhook_url {e}"));
        }
        out
    }
}

/// What a rule's window holds: the runs started in it (or, for failures,
/// that ended in it), its items, the run confidences of the window before,
/// and when the workflow's oldest open item was opened.
#[derive(Clone, Debug, Default)]
pub struct Window {
    pub runs: Vec<RunPoint>,
    pub items: Vec<ItemPoint>,
    pub previous_confidences: Vec<f64>,
    pub oldest_open_at: Option<i64>,
}

/// The rule's value over `w` at `now`; None with too little to judge.
pub fn measure(spec: &RuleSpec, w: &Window, now: i64) -> Option<f64> {
    let min = spec.min_runs.max(1) as u64;
    match spec.metric {
        Metric::EscalationRate => {
            let runs = w.runs.len() as u64;
            let gates = w.items.iter().filter(|i| i.gate).count() as u64;
            (runs >= min).then(|| rate(gates, runs)).flatten()
        }
        Metric::FailureRate => {
            let ended: Vec<_> = w
                .runs
                .iter()
                .filter(|r| r.status != RunStatus::Running)
                .collect();
            let failed = ended
                .iter()
                .filter(|r| r.status == RunStatus::Failed)
                .count() as u64;
            let n = ended.len() as u64;
            (n >= min).then(|| rate(failed, n)).flatten()
        }
        Metric::Drift => {
            let now_c: Vec<f64> = w.runs.iter().filter_map(|r| r.confidence).collect();
            if (now_c.len() as u64) < min || (w.previous_confidences.len() as u64) < min {
                return None;
            }
            psi(
                &histogram(w.previous_confidences.iter().copied()),
                &histogram(now_c),
            )
        }
        Metric::OldestWaiting => Some(
            w.oldest_open_at
                .map_or(0.0, |at| (now - at).max(0) as f64 / 60_000.0),
        ),
    }
}

/// What a check changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Started,
    Stopped,
    Same,
}

/// Whether a rule that is (or is not) `firing` starts or stops: it fires
/// while the value is above the threshold; with too little data it stays
/// as it is.
pub fn decide(firing: bool, value: Option<f64>, threshold: f64) -> Change {
    match (firing, value) {
        (false, Some(v)) if v > threshold => Change::Started,
        (true, Some(v)) if v <= threshold => Change::Stopped,
        _ => Change::Same,
    }
}

/// The notice a webhook gets, Slack-compatible: `{"text": …}`.
pub fn notice(
    workflow: &str,
    spec: &RuleSpec,
    value: f64,
    change: Change,
    link: &str,
) -> serde_json::Value {
    let (mark, verb) = match change {
        Change::Started => (":rotating_light:", "Alert started"),
        _ => (":white_check_mark:", "Alert stopped"),
    };
    let text = format!(
        "{mark} {verb} on {workflow}: {} is {} (threshold {}, last {} min). {link}",
        spec.metric.describe(),
        spec.metric.show(value),
        spec.metric.show(spec.threshold),
        spec.window_minutes,
    );
    serde_json::json!({ "text": text })
}

/// When a notice that failed `attempts` times is tried again: 10 s, 20 s,
/// 40 s … at most an hour later.
pub fn retry_after_ms(attempts: i64) -> i64 {
    (10_000i64 << attempts.clamp(0, 20)).min(3_600_000)
}

/// A notice is given up after this many failed deliveries.
pub const MAX_NOTICE_ATTEMPTS: i64 = 12;
