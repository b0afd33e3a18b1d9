//! Checks of a trigger's definition that need no server: names, paths,
//! header names, numbers in range, jq that compiles. Each message says
//! what to fix, naming the field.

use super::{
    CatchUp, MAX_RETENTION_MS, MAX_SYNC_TIMEOUT_MS, MIN_INTERVAL_MS, ResponseMode, ScheduleSpec,
    TriggerInput, TriggerSpec, WebhookAuth, WebhookSpec, When,
};
use crate::domain::ids::TriggerId;

/// The longest name, path and header list a trigger may have.
const MAX_NAME: usize = 200;
const MAX_PATH: usize = 200;
const MAX_HEADERS: usize = 32;
const MAX_MAPPING: usize = 20_000;

/// Checks what does not need the server (names, paths, numbers, that the
/// jq compiles). Each message says what to fix.
pub fn check(input: &TriggerInput) -> Result<(), String> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(format!(
            "a trigger needs a name of 1 to {MAX_NAME} characters"
        ));
    }
    match &input.spec {
        TriggerSpec::Webhook(w) => check_webhook(w),
        TriggerSpec::Schedule(s) => check_schedule(s),
    }
}

fn check_webhook(w: &WebhookSpec) -> Result<(), String> {
    if let Some(p) = &w.path {
        check_path(p)?;
    }
    let header = match &w.auth {
        WebhookAuth::Token { header } | WebhookAuth::Hmac { header } => header,
    };
    check_header("auth.header", header)?;
    if w.headers.len() > MAX_HEADERS {
        return Err(format!(
            "a webhook may pass at most {MAX_HEADERS} headers to its mapping"
        ));
    }
    for h in &w.headers {
        check_header("headers", h)?;
    }
    if let Some(h) = &w.dedup.header {
        check_header("dedup.header", h)?;
    }
    if w.dedup.header.is_some() && w.dedup.path.is_some() {
        return Err("dedup: name a header or a jq path, not both".into());
    }
    check_jq("mapping", w.mapping.as_deref())?;
    check_jq("dedup.path", w.dedup.path.as_deref())?;
    if !(60_000..=MAX_RETENTION_MS).contains(&w.dedup.retention_ms) {
        return Err(
            "dedup.retention_ms must be between 60000 (a minute) and 2592000000 (30 days)".into(),
        );
    }
    if let ResponseMode::Sync { timeout_ms } = w.response
        && !(1..=MAX_SYNC_TIMEOUT_MS).contains(&timeout_ms)
    {
        return Err(format!(
            "response.timeout_ms must be between 1 and {MAX_SYNC_TIMEOUT_MS}"
        ));
    }
    Ok(())
}

/// A chosen webhook path: letters, digits, `-`, `_`, `.` and `/` between
/// segments; not an id of another trigger's shape.
pub fn check_path(p: &str) -> Result<(), String> {
    let ok = !p.is_empty()
        && p.len() <= MAX_PATH
        && p.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if !ok {
        return Err(format!(
            "path '{}' is not allowed: use 1 to {MAX_PATH} letters, digits, '-', '_', '.', with '/' between parts (like 'invoices/incoming')",
            crate::domain::limits::clip(p, 60)
        ));
    }
    if p.starts_with(TriggerId::PREFIX) {
        return Err(format!(
            "path '{p}' may not start with '{}'",
            TriggerId::PREFIX
        ));
    }
    Ok(())
}

fn check_header(field: &str, h: &str) -> Result<(), String> {
    let ok = !h.is_empty()
        && h.len() <= 100
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}: '{}' is not a header name (letters, digits, '-' and '_')",
            crate::domain::limits::clip(h, 60)
        ))
    }
}

fn check_jq(field: &str, code: Option<&str>) -> Result<(), String> {
    let Some(code) = code else { return Ok(()) };
    if code.len() > MAX_MAPPING {
        return Err(format!("{field}: at most {MAX_MAPPING} characters"));
    }
    crate::domain::expr::check(code).map_err(|e| format!("{field}: {e}"))
}

fn check_schedule(s: &ScheduleSpec) -> Result<(), String> {
    if let When::EveryMs(ms) = s.when
        && ms < MIN_INTERVAL_MS
    {
        return Err(format!("when.every_ms must be at least {MIN_INTERVAL_MS}"));
    }
    if let CatchUp::All { window_ms } = s.catch_up
        && window_ms <= 0
    {
        return Err("catch_up.window_ms must be more than 0".into());
    }
    if s.pause_after_failures == Some(0) {
        return Err("pause_after_failures must be at least 1 (or left out)".into());
    }
    if s.jitter_ms > 24 * 3_600_000 {
        return Err("jitter_ms must be at most 86400000 (a day)".into());
    }
    check_jq("mapping", s.mapping.as_deref())
}
