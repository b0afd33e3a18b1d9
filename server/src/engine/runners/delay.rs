use super::{Attempt, Outcome};
use serde_json::json;

/// Parks the step until the time has passed; holds no worker meanwhile and
/// survives restarts (the wake-up time is stored).
pub fn run(a: &Attempt<'_>, duration_ms: u64) -> Outcome {
    if a.woken {
        Outcome::out(json!({"waited_ms": duration_ms}))
    } else {
        Outcome::Park {
            until: app::domain::limits::after(a.now, duration_ms),
        }
    }
}
