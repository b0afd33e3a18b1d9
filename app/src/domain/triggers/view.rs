//! What the Triggers panel and the REST API show of a trigger.

use super::{Trigger, TriggerEvent};
use serde::{Deserialize, Serialize};

/// A trigger with what a person wants to see next to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriggerView {
    #[serde(flatten)]
    pub trigger: Trigger,
    /// A webhook's path under the server (`/hooks/...`).
    pub url_path: Option<String>,
    /// A schedule's next fire times (nominal), in its time zone.
    pub next_fires: Vec<NextFire>,
    /// The most recent deliveries or fires, newest first (refused
    /// deliveries included: the server keeps the last few in memory).
    pub events: Vec<TriggerEvent>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextFire {
    /// Milliseconds since the epoch.
    pub at: i64,
    /// RFC 3339 in the schedule's time zone.
    pub local: String,
}

/// A new trigger, or a new key: the secret is in this answer and nowhere
/// else, ever.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WithSecret {
    pub trigger: TriggerView,
    /// The token or signing key (webhooks only).
    pub secret: Option<String>,
}
