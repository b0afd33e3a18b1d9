//! Triggers: what starts a workflow's published version without a person
//! pressing Run. A webhook turns an HTTP delivery into a run; a schedule
//! fires at nominal times (cron or a fixed interval, in a time zone).
//!
//! This module holds the definitions and their checks (shared with the
//! browser); `schedule` computes fire times (server only: it needs the
//! time zone database) and `plan` decides, purely, what a due fire does.

mod check;
pub use check::{check, check_path};
pub mod plan;
#[cfg(feature = "ssr")]
pub mod schedule;
#[cfg(test)]
mod tests;
#[cfg(feature = "ssr")]
pub mod throttle;
pub mod view;

use crate::domain::ids::TriggerId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The header a token-authenticated webhook reads its secret from.
pub const DEFAULT_TOKEN_HEADER: &str = "x-stepwise-token";
/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const DEFAULT_SIGNATURE_HEADER: &str = "x-stepwise-signature";
/// The header whose value identifies a delivery, unless another is named.
pub const DEFAULT_KEY_HEADER: &str = "idempotency-key";
/// How long a signed request stays valid after its timestamp (and before).
pub const SIGNATURE_WINDOW_MS: i64 = 5 * 60 * 1000;
/// How long a delivery key is remembered by default.
pub const DEFAULT_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// ... and at most.
pub const MAX_RETENTION_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// A synchronous webhook waits this long for its run, unless told otherwise.
pub const DEFAULT_SYNC_TIMEOUT_MS: u64 = 30_000;
/// ... and never longer than this.
pub const MAX_SYNC_TIMEOUT_MS: u64 = 120_000;
/// The shortest interval a schedule may fire at.
pub const MIN_INTERVAL_MS: u64 = 1_000;

/// A trigger as stored and shown (its secret never is).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Trigger {
    pub id: TriggerId,
    pub workflow_id: String,
    pub name: String,
    pub spec: TriggerSpec,
    pub paused: bool,
    /// Why it was paused, when it was not a person's choice.
    #[serde(default)]
    pub paused_reason: Option<String>,
    /// A second (older) key is still accepted, during a rotation.
    #[serde(default)]
    pub rotating: bool,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
}

impl Trigger {
    /// Who its runs are started by, in the audit trail: `trigger:<id>`.
    pub fn actor(&self) -> crate::domain::audit::Actor {
        crate::domain::audit::Actor(format!("trigger:{}", self.id))
    }

    /// The path under the server's address that delivers to this webhook.
    pub fn hook_path(&self) -> Option<String> {
        match &self.spec {
            TriggerSpec::Webhook(w) => Some(format!(
                "/hooks/{}",
                w.path.as_deref().unwrap_or(self.id.as_str())
            )),
            TriggerSpec::Schedule(_) => None,
        }
    }
}

/// What a trigger is: its kind and settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TriggerSpec {
    Webhook(WebhookSpec),
    Schedule(ScheduleSpec),
}

impl TriggerSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            TriggerSpec::Webhook(_) => "webhook",
            TriggerSpec::Schedule(_) => "schedule",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// A chosen path (`/hooks/<path>`); without one, the trigger's id.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub auth: WebhookAuth,
    /// Request headers (lower case) the mapping may read.
    #[serde(default)]
    pub headers: Vec<String>,
    /// jq over `{body, headers, query}` giving the run input; without
    /// one, the body is the input.
    #[serde(default)]
    pub mapping: Option<String>,
    #[serde(default)]
    pub dedup: Dedup,
    #[serde(default)]
    pub response: ResponseMode,
}

/// How a delivery proves it comes from who holds the secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum WebhookAuth {
    /// The secret itself in a header (or `Authorization: Bearer`).
    Token {
        #[serde(default = "token_header")]
        header: String,
    },
    /// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
    Hmac {
        #[serde(default = "signature_header")]
        header: String,
    },
}

fn token_header() -> String {
    DEFAULT_TOKEN_HEADER.into()
}
fn signature_header() -> String {
    DEFAULT_SIGNATURE_HEADER.into()
}

impl Default for WebhookAuth {
    fn default() -> Self {
        WebhookAuth::Hmac {
            header: signature_header(),
        }
    }
}

/// Which deliveries are the same delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Dedup {
    /// The header holding the delivery key (default `Idempotency-Key`).
    #[serde(default)]
    pub header: Option<String>,
    /// Or a jq path into `{body, headers, query}` (e.g. `.body.invoice_id`).
    #[serde(default)]
    pub path: Option<String>,
    /// How long a key is remembered.
    #[serde(default = "retention")]
    pub retention_ms: i64,
}

fn retention() -> i64 {
    DEFAULT_RETENTION_MS
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup {
            header: None,
            path: None,
            retention_ms: DEFAULT_RETENTION_MS,
        }
    }
}

/// When a delivery is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponseMode {
    /// At once: 202 with the run's id and where to see it.
    #[default]
    Async,
    /// When the run ends (with its output), waits for a person, or the
    /// timeout passes (then as `Async`).
    Sync {
        #[serde(default = "sync_timeout")]
        timeout_ms: u64,
    },
}

fn sync_timeout() -> u64 {
    DEFAULT_SYNC_TIMEOUT_MS
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub when: When,
    /// An IANA time zone (`Europe/Berlin`); cron fields are read in it.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// The run input (when there is no mapping).
    #[serde(default)]
    pub input: Value,
    /// jq over `{input, nominal_time, fire_time}` (RFC 3339 in the time
    /// zone, and `nominal_ms`) giving the run input.
    #[serde(default)]
    pub mapping: Option<String>,
    #[serde(default)]
    pub overlap: Overlap,
    #[serde(default)]
    pub catch_up: CatchUp,
    /// Each fire waits up to this long after its nominal time (the same
    /// delay every time for a given nominal time; never past the next).
    #[serde(default)]
    pub jitter_ms: u64,
    /// Pause after this many runs in a row failed.
    #[serde(default)]
    pub pause_after_failures: Option<u32>,
}

fn utc() -> String {
    "UTC".into()
}

/// When a schedule fires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum When {
    /// 5 fields (minute hour day month weekday) or 6 (seconds first).
    Cron(String),
    /// Every this many milliseconds (counted from the Unix epoch, so the
    /// times do not depend on when the server started).
    EveryMs(u64),
}

/// What a fire does while a run it started earlier is still going.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Record the fire as skipped.
    #[default]
    Skip,
    /// Keep one fire to start when the running one ends; skip others.
    BufferOne,
    /// Start it anyway.
    AllowAll,
    /// Cancel the running ones, then start.
    CancelOther,
}

/// What happens to fires missed while the server was not running.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "policy", rename_all = "snake_case", deny_unknown_fields)]
pub enum CatchUp {
    /// None are run; each is recorded as missed.
    None,
    /// Only the latest is run.
    #[default]
    Latest,
    /// All within the window are run, one after another.
    All { window_ms: i64 },
}

/// How a delivery or fire ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    /// A run started.
    Started,
    /// The same delivery came before: its run is the answer.
    Duplicate,
    /// Refused (authentication, input); nothing was kept.
    Refused,
    /// Not run: a run from this schedule was still going.
    Skipped,
    /// Waiting to start when the running one ends.
    Queued,
    /// Not run: the server was not running at the time.
    Missed,
    /// Captured as a test event; no run.
    Test,
    /// The schedule paused itself.
    Paused,
}

crate::domain::run::str_enum!(EventOutcome {
    Started = "started",
    Duplicate = "duplicate",
    Refused = "refused",
    Skipped = "skipped",
    Queued = "queued",
    Missed = "missed",
    Test = "test",
    Paused = "paused",
});

/// One delivery or fire, as the Triggers panel lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TriggerEvent {
    pub at: i64,
    pub outcome: EventOutcome,
    /// Why (refused, skipped, missed), in words.
    pub detail: String,
    pub run_id: Option<String>,
    /// A schedule's nominal time.
    pub nominal_at: Option<i64>,
}

/// A new trigger or a changed one, as a person or a script sends it:
/// `{"name": .., "kind": "webhook" | "schedule", ..settings}`. A field
/// the kind does not have is an error that names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", schemars(with = "TriggerInputShape"))]
#[serde(try_from = "Value")]
pub struct TriggerInput {
    pub name: String,
    #[serde(flatten)]
    pub spec: TriggerSpec,
}

/// What [`TriggerInput`] reads, for its JSON Schema.
#[cfg(feature = "ssr")]
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct TriggerInputShape {
    /// 1 to 200 characters.
    name: String,
    #[schemars(flatten)]
    spec: TriggerSpec,
}

impl TryFrom<Value> for TriggerInput {
    type Error = String;
    fn try_from(v: Value) -> Result<Self, String> {
        let Value::Object(mut m) = v else {
            return Err("a trigger is a JSON object with a name and a kind".into());
        };
        let name = match m.remove("name") {
            Some(Value::String(s)) => s,
            _ => return Err("name: a trigger needs a name (a string)".into()),
        };
        let spec = serde_json::from_value(Value::Object(m)).map_err(|e| e.to_string())?;
        Ok(TriggerInput { name, spec })
    }
}
