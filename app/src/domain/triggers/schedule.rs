//! When a schedule fires: nominal times from a cron pattern read on the
//! time zone's local clock, or from a fixed interval.
//!
//! Daylight saving time, the rules:
//! - a local time that does not exist (the hour skipped in spring) fires
//!   once, at the first instant after the gap (so `30 2 * * *` in Berlin
//!   fires at 03:00 on the last Sunday of March; several times inside the
//!   gap fire once, together);
//! - a local time that happens twice (the hour repeated in autumn) fires
//!   once, at its first occurrence;
//! - intervals are counted in real time and ignore the clock change.
//!
//! croner matches the pattern against civil (zone-less) times; this module
//! alone turns them into instants, so the rules above hold whatever croner
//! does with zones.

use super::{ScheduleSpec, When};
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// Intervals longer than a year are refused (a yearly cron says it better).
pub const MAX_INTERVAL_MS: u64 = 366 * 24 * 3_600_000;
/// Civil candidates examined per call before giving up (a pattern that
/// matches only inside repeated hours could otherwise loop).
const MAX_CANDIDATES: usize = 10_000;

/// A schedule's pattern and zone, ready to compute fire times.
#[derive(Clone, Debug)]
pub struct Schedule {
    when: Compiled,
    tz: Tz,
}

#[derive(Clone, Debug)]
enum Compiled {
    Cron(Box<croner::Cron>),
    Every(i64),
}

impl Schedule {
    /// Parses the pattern and zone. The message says what to fix.
    pub fn new(spec: &ScheduleSpec) -> Result<Schedule, String> {
        let tz: Tz = spec.time_zone.parse().map_err(|_| {
            format!(
                "time_zone '{}' is not an IANA time zone (like 'Europe/Berlin' or 'UTC')",
                crate::domain::limits::clip(&spec.time_zone, 60)
            )
        })?;
        let when = match &spec.when {
            When::Cron(p) => Compiled::Cron(Box::new(parse_cron(p)?)),
            When::EveryMs(ms) => {
                if !(super::MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(ms) {
                    return Err(format!(
                        "when.every_ms must be {} to {MAX_INTERVAL_MS} (a year)",
                        super::MIN_INTERVAL_MS
                    ));
                }
                Compiled::Every(*ms as i64)
            }
        };
        Ok(Schedule { when, tz })
    }

    /// The first nominal fire time strictly after `after` (ms since the
    /// epoch), or None when the pattern matches nothing from then on.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        match &self.when {
            Compiled::Every(ms) => after.div_euclid(*ms).checked_add(1)?.checked_mul(*ms),
            Compiled::Cron(cron) => self.next_cron(cron, after),
        }
    }

    /// The next `n` fire times after `after`.
    pub fn next_n(&self, after: i64, n: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(n);
        let mut t = after;
        while out.len() < n {
            match self.next_after(t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    /// `ms` as RFC 3339 in the schedule's zone (`2026-03-29T03:00:00+02:00`).
    pub fn local(&self, ms: i64) -> String {
        match self.tz.timestamp_millis_opt(ms) {
            LocalResult::Single(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            _ => ms.to_string(),
        }
    }

    fn next_cron(&self, cron: &croner::Cron, after: i64) -> Option<i64> {
        let at = self.tz.timestamp_millis_opt(after).single()?;
        // whole seconds: a fire at the same second as `after` is not after
        let mut cursor = at.naive_local().with_nanosecond(0)?;
        for _ in 0..MAX_CANDIDATES {
            let civil = cron.find_next_occurrence(&cursor, false).ok()?;
            let instant = self.instant(civil)?;
            if instant > after {
                return Some(instant);
            }
            cursor = civil;
        }
        None
    }

    /// The instant a civil time fires at, by the rules above.
    fn instant(&self, civil: NaiveDateTime) -> Option<i64> {
        match self.tz.from_local_datetime(&civil) {
            LocalResult::Single(t) => Some(t.timestamp_millis()),
            LocalResult::Ambiguous(first, _) => Some(first.timestamp_millis()),
            LocalResult::None => self.after_gap(civil),
        }
    }

    /// The first instant after the gap `civil` falls in: the first whole
    /// minute after it that exists on the local clock (gaps start and end on
    /// whole minutes; the longest, Samoa's in 2011, was a day).
    fn after_gap(&self, civil: NaiveDateTime) -> Option<i64> {
        let mut t = civil.with_second(0)?;
        for _ in 0..(2 * 24 * 60) {
            t += chrono::Duration::minutes(1);
            match self.tz.from_local_datetime(&t) {
                LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => {
                    return Some(x.timestamp_millis());
                }
                LocalResult::None => {}
            }
        }
        None
    }

    /// The zone's name.
    pub fn zone(&self) -> &str {
        self.tz.name()
    }
}

/// A cron pattern of 5 fields (minute hour day-of-month month day-of-week)
/// or 6 (seconds first); names (`MON`, `JAN`), ranges, steps, `L`, `#`, `W`
/// and `@daily`-style nicknames as croner reads them.
pub fn parse_cron(p: &str) -> Result<croner::Cron, String> {
    use croner::parser::{CronParser, Seconds, Year};
    let fields = p.split_whitespace().count();
    if p.len() > 200 || !(p.trim_start().starts_with('@') || (5..=6).contains(&fields)) {
        return Err(format!(
            "when.cron '{}' needs 5 fields (minute hour day month weekday) or 6 (seconds first), like '0 7 * * MON-FRI'",
            crate::domain::limits::clip(p, 60)
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(p)
        .map_err(|e| format!("when.cron '{}': {e}", crate::domain::limits::clip(p, 60)))
}

/// How long after its nominal time a fire waits: the same for the same
/// trigger and nominal time on every server, at most `jitter_ms`, and
/// always before the next nominal time.
pub fn jitter(trigger_id: &str, nominal: i64, next_nominal: Option<i64>, jitter_ms: u64) -> i64 {
    if jitter_ms == 0 {
        return 0;
    }
    let room = next_nominal.map_or(i64::MAX, |n| n.saturating_sub(nominal).saturating_sub(1));
    let bound = (jitter_ms.min(i64::MAX as u64) as i64).min(room);
    if bound <= 0 {
        return 0;
    }
    // FNV-1a over the id and the time: stable across processes and versions
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in trigger_id.bytes().chain(nominal.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % (bound as u64 + 1)) as i64
}

/// `ms` in UTC as RFC 3339 (for messages).
pub fn utc(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}
