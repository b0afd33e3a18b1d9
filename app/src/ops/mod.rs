//! (ssr) Use cases. Each runs in one transaction that changes the state and
//! writes its audit event together.

pub mod progress;
pub mod runs;
pub mod seed;
pub mod workflows;

/// Milliseconds since the Unix epoch: the one place ops read the clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
