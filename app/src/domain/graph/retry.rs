//! Failures by class, and how each class is retried.

use serde::{Deserialize, Serialize};

/// Which kind of failure a retry policy applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Connection failures, timeouts, HTTP 5xx and 429: worth trying again.
    Transient,
    /// The other side said no (4xx, Fail node, rejected approval).
    Business,
    /// The output does not have the expected shape.
    Format,
}

impl ErrorClass {
    /// The name stored with a failed step and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Business => "business",
            ErrorClass::Format => "format",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 means no retry.
    pub max_attempts: u32,
    #[serde(default = "default_initial_delay")]
    pub initial_delay_ms: u64,
    #[serde(default = "default_multiplier")]
    pub multiplier: f64,
    #[serde(default = "default_max_delay")]
    pub max_delay_ms: u64,
    /// Fraction of the delay randomised (0 = exact, 1 = up to 100%).
    #[serde(default = "default_jitter")]
    pub jitter: f64,
}

fn default_initial_delay() -> u64 {
    1_000
}
fn default_multiplier() -> f64 {
    2.0
}
fn default_max_delay() -> u64 {
    60_000
}
fn default_jitter() -> f64 {
    0.2
}

impl RetryPolicy {
    pub fn attempts(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts,
            initial_delay_ms: default_initial_delay(),
            multiplier: default_multiplier(),
            max_delay_ms: default_max_delay(),
            jitter: default_jitter(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RetryPolicies {
    #[serde(default = "default_transient")]
    pub transient: RetryPolicy,
    #[serde(default = "default_business")]
    pub business: RetryPolicy,
    #[serde(default = "default_format")]
    pub format: RetryPolicy,
}

fn default_transient() -> RetryPolicy {
    RetryPolicy::attempts(5)
}
fn default_business() -> RetryPolicy {
    RetryPolicy::attempts(1)
}
fn default_format() -> RetryPolicy {
    RetryPolicy::attempts(2)
}

impl Default for RetryPolicies {
    fn default() -> Self {
        RetryPolicies {
            transient: default_transient(),
            business: default_business(),
            format: default_format(),
        }
    }
}

impl RetryPolicies {
    pub fn is_default(&self) -> bool {
        *self == RetryPolicies::default()
    }

    pub fn for_class(&self, class: ErrorClass) -> &RetryPolicy {
        match class {
            ErrorClass::Transient => &self.transient,
            ErrorClass::Business => &self.business,
            ErrorClass::Format => &self.format,
        }
    }

    pub fn for_class_mut(&mut self, class: ErrorClass) -> &mut RetryPolicy {
        match class {
            ErrorClass::Transient => &mut self.transient,
            ErrorClass::Business => &mut self.business,
            ErrorClass::Format => &mut self.format,
        }
    }
}
