//! What the Triggers panel and the REST API show of a trigger.

use super::{Trigger, TriggerEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A trigger with what a person wants to see next to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TriggerView {
    #[serde(flatten)]
    pub trigger: Trigger,
    /// A webhook's path under the server (`/hooks/...`).
    pub url_path: Option<String>,
    /// A schedule's next fire times (nominal), in its time zone.
    pub next_fires: Vec<NextFire>,
    /// The most recent deliveries or fires, newest first (refused
    /// deliveries included: the last few, written at a bounded pace).
    pub events: Vec<TriggerEvent>,
    /// Someone, on any server process, waits for this webhook's next
    /// delivery as a test event.
    #[serde(default)]
    pub listening: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct NextFire {
    /// Milliseconds since the epoch.
    pub at: i64,
    /// RFC 3339 in the schedule's time zone.
    pub local: String,
}

/// A new trigger, or a new key: the secret is in this answer and nowhere
/// else, ever.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WithSecret {
    pub trigger: TriggerView,
    /// The token or signing key (webhooks only).
    pub secret: Option<String>,
}

/// A delivery captured while someone listened, instead of starting a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TestEvent {
    pub at: i64,
    /// `{body, headers, query}` as the mapping sees it.
    pub request: Value,
    /// What the mapping made of it: the run input it would start...
    pub input: Option<Value>,
    /// ... or why it could not.
    pub input_error: Option<String>,
}

/// What a trigger does, in a few short lines for its card.
pub fn describe(spec: &super::TriggerSpec) -> Vec<String> {
    use super::{CatchUp, Overlap, ResponseMode, TriggerSpec, WebhookAuth, When};
    use crate::domain::graph::human_duration;
    match spec {
        TriggerSpec::Webhook(w) => {
            let mut out = vec![match &w.auth {
                WebhookAuth::Hmac { header } => format!("Signed: HMAC-SHA256 in {header}"),
                WebhookAuth::Token { header } => format!("Token in {header}"),
            }];
            out.push(match (&w.dedup.path, &w.dedup.header) {
                (Some(p), _) => format!("Same delivery: same {p}"),
                (None, h) => format!(
                    "Same delivery: same {} header",
                    h.as_deref().unwrap_or(super::DEFAULT_KEY_HEADER)
                ),
            });
            out.push(match w.response {
                ResponseMode::Async => "Answers at once (202)".into(),
                ResponseMode::Sync { timeout_ms } => format!(
                    "Answers with the output (waits up to {})",
                    human_duration(timeout_ms)
                ),
            });
            if w.mapping.is_some() {
                out.push("Input: mapped with jq".into());
            }
            out
        }
        TriggerSpec::Schedule(s) => {
            let when = match &s.when {
                When::Cron(c) => format!("Cron {c} in {}", s.time_zone),
                When::EveryMs(ms) => format!("Every {}", human_duration(*ms)),
            };
            let overlap = match s.overlap {
                Overlap::Skip => "skip a fire while a run is going",
                Overlap::BufferOne => "keep one fire waiting while a run is going",
                Overlap::AllowAll => "start every fire, even while a run is going",
                Overlap::CancelOther => "cancel a running run and start anew",
            };
            let catch = match s.catch_up {
                CatchUp::None => "fires missed while stopped are not run".to_string(),
                CatchUp::Latest => "after a stop, run the latest missed fire".to_string(),
                CatchUp::All { window_ms } => format!(
                    "after a stop, run missed fires of the last {} one by one",
                    human_duration(window_ms.max(0) as u64)
                ),
            };
            let mut out = vec![
                when,
                format!("Overlap: {overlap}"),
                format!("Catch-up: {catch}"),
            ];
            if s.jitter_ms > 0 {
                out.push(format!("Jitter: up to {}", human_duration(s.jitter_ms)));
            }
            if let Some(n) = s.pause_after_failures {
                out.push(format!("Pauses after {n} failed runs in a row"));
            }
            out
        }
    }
}
