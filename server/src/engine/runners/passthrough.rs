//! Start and Join: no work of their own.

use super::{Attempt, Outcome};
use serde_json::{Value, json};

/// The run input becomes the Start step's output.
pub fn start(a: &Attempt<'_>) -> Outcome {
    Outcome::out(a.context.get("input").cloned().unwrap_or(Value::Null))
}

/// Every path has arrived; nothing to compute.
pub fn join(_a: &Attempt<'_>) -> Outcome {
    Outcome::out(json!({}))
}
