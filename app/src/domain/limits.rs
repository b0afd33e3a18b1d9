//! The ranges every number in a workflow must keep, and time arithmetic that
//! cannot overflow. Validation refuses a definition outside these ranges
//! with a message naming the field and the range; the engine's arithmetic
//! saturates, so even a definition stored before a range existed cannot
//! panic or wrap.

/// One day in milliseconds.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// Longest wait a Delay, an approval deadline or a run timeout may ask for.
pub const MAX_WAIT_MS: u64 = 366 * DAY_MS;
/// Longest a single step attempt may run.
pub const MAX_STEP_TIMEOUT_MS: u64 = DAY_MS;
/// Longest pause between two attempts of a step.
pub const MAX_RETRY_DELAY_MS: u64 = 30 * DAY_MS;
/// Most attempts a retry policy may allow.
pub const MAX_ATTEMPTS: u32 = 100;
/// Most approvals an approval step may require.
pub const MAX_REQUIRED_APPROVALS: u32 = 100;
/// How far from the origin a node may be drawn.
pub const MAX_COORDINATE: f64 = 1_000_000.0;
/// How large a workflow may be.
pub const MAX_NODES: usize = 2_000;
pub const MAX_EDGES: usize = 10_000;
/// How many of a list a node may hold (conditions, headers, form fields,
/// choice options).
pub const MAX_LIST: usize = 200;
/// Longest name, label or id.
pub const MAX_NAME_CHARS: usize = 200;

/// `now + ms`, saturating instead of overflowing (`ms` beyond `i64::MAX`
/// counts as the far future, never as the past).
pub fn after(now: i64, ms: u64) -> i64 {
    now.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// `now + ms` for a signed offset, saturating.
pub fn after_signed(now: i64, ms: i64) -> i64 {
    now.saturating_add(ms)
}

/// Checks `value` is within `range`; the message names `field` and the range.
pub fn in_range(field: &str, value: u64, min: u64, max: u64) -> Result<(), String> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{field} must be {} to {}, not {value}",
            human(min),
            human(max)
        ))
    }
}

/// Milliseconds said the way the range messages say them.
fn human(ms: u64) -> String {
    if ms >= DAY_MS && ms.is_multiple_of(DAY_MS) {
        format!("{} ms ({} days)", ms, ms / DAY_MS)
    } else {
        ms.to_string()
    }
}

/// At most `max` characters of `s` (for quoting what someone sent in a
/// message), with "…" when cut.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_arithmetic_saturates() {
        assert_eq!(after(1_000, 500), 1_500);
        assert_eq!(after(1_000, u64::MAX), i64::MAX);
        assert_eq!(after(i64::MAX - 1, 10), i64::MAX);
        assert_eq!(after_signed(i64::MAX, i64::MAX), i64::MAX);
        assert_eq!(after_signed(i64::MIN, -1), i64::MIN);
    }

    #[test]
    fn ranges_name_the_field() {
        assert_eq!(in_range("duration_ms", 5, 1, 10), Ok(()));
        let e = in_range("duration_ms", u64::MAX, 1, MAX_WAIT_MS).unwrap_err();
        assert!(
            e.starts_with("duration_ms must be 1 to 31622400000 ms (366 days)"),
            "{e}"
        );
    }
}
