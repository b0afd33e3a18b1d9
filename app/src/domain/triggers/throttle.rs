//! How many refused deliveries a process writes down: a token bucket per
//! webhook and one for all of them, so a flood of bad requests can neither
//! fill the database nor keep its writer busy. What the buckets hold back
//! is counted and told with the next refusal written.

use crate::domain::ids::TriggerId;
use std::collections::HashMap;

/// Refusals of one webhook written at once before the pace applies.
pub const BURST: f64 = 10.0;
/// Refusals of one webhook written per second after a burst.
pub const PER_SECOND: f64 = 1.0;
/// The same for all webhooks of the process together.
pub const ALL_BURST: f64 = 100.0;
pub const ALL_PER_SECOND: f64 = 20.0;
/// Webhooks tracked at once; past this the oldest state is forgotten
/// (which only lets a few more refusals through).
const MAX_TRACKED: usize = 10_000;

/// Tokens that refill at a pace, up to a burst.
#[derive(Clone, Debug, PartialEq)]
struct Bucket {
    tokens: f64,
    at: i64,
}

impl Bucket {
    fn full(burst: f64, now: i64) -> Self {
        Bucket {
            tokens: burst,
            at: now,
        }
    }

    fn refill(&mut self, now: i64, burst: f64, per_s: f64) {
        let elapsed = (now - self.at).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * per_s).min(burst);
        self.at = self.at.max(now);
    }
}

/// What to do with one refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Write it down, saying that `held` refusals before it were not.
    Write { held: u64 },
    /// Count it only.
    Hold,
}

#[derive(Debug, Default)]
pub struct Throttle {
    each: HashMap<TriggerId, (Bucket, u64)>,
    all: Option<Bucket>,
}

impl Throttle {
    /// Decides for a refusal of webhook `id` at `now` (ms).
    pub fn refusal(&mut self, id: &TriggerId, now: i64) -> Verdict {
        if self.each.len() >= MAX_TRACKED && !self.each.contains_key(id) {
            self.each.clear();
        }
        let all = self.all.get_or_insert_with(|| Bucket::full(ALL_BURST, now));
        all.refill(now, ALL_BURST, ALL_PER_SECOND);
        let (mine, held) = self
            .each
            .entry(id.clone())
            .or_insert_with(|| (Bucket::full(BURST, now), 0));
        mine.refill(now, BURST, PER_SECOND);
        if mine.tokens >= 1.0 && all.tokens >= 1.0 {
            mine.tokens -= 1.0;
            all.tokens -= 1.0;
            Verdict::Write {
                held: std::mem::take(held),
            }
        } else {
            *held += 1;
            Verdict::Hold
        }
    }
}

/// The words written for a refusal, with what was held back before it.
pub fn detail(why: &str, held: u64) -> String {
    match held {
        0 => why.to_string(),
        1 => format!("{why} (1 refusal just before this one was not kept)"),
        n => format!("{why} ({n} refusals just before this one were not kept)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> TriggerId {
        TriggerId::from_stored(s.to_string())
    }

    #[test]
    fn a_burst_is_written_then_one_a_second_and_the_held_ones_are_counted() {
        let mut t = Throttle::default();
        let a = id("a");
        for _ in 0..10 {
            assert_eq!(t.refusal(&a, 1_000), Verdict::Write { held: 0 });
        }
        for _ in 0..500 {
            assert_eq!(t.refusal(&a, 1_000), Verdict::Hold);
        }
        assert_eq!(t.refusal(&a, 1_999), Verdict::Hold);
        assert_eq!(t.refusal(&a, 2_000), Verdict::Write { held: 501 });
        assert_eq!(t.refusal(&a, 2_000), Verdict::Hold);
        // a quiet minute refills the burst, never beyond it
        for _ in 0..10 {
            assert!(matches!(t.refusal(&a, 62_000), Verdict::Write { .. }));
        }
        assert_eq!(t.refusal(&a, 62_000), Verdict::Hold);
    }

    #[test]
    fn one_webhook_flooded_leaves_the_others_their_own_burst() {
        let mut t = Throttle::default();
        for _ in 0..1_000 {
            t.refusal(&id("flooded"), 0);
        }
        assert_eq!(t.refusal(&id("quiet"), 0), Verdict::Write { held: 0 });
    }

    #[test]
    fn all_webhooks_together_are_held_to_the_process_pace() {
        let mut t = Throttle::default();
        let written = (0..1_000)
            .filter(|i| matches!(t.refusal(&id(&format!("w{i}")), 0), Verdict::Write { .. }))
            .count();
        assert_eq!(written, ALL_BURST as usize);
        // one second later: twenty more
        let written = (0..1_000)
            .filter(|i| {
                matches!(
                    t.refusal(&id(&format!("v{i}")), 1_000),
                    Verdict::Write { .. }
                )
            })
            .count();
        assert_eq!(written, ALL_PER_SECOND as usize);
    }

    #[test]
    fn a_clock_that_jumps_back_refills_nothing_and_breaks_nothing() {
        let mut t = Throttle::default();
        let a = id("a");
        for _ in 0..10 {
            t.refusal(&a, 10_000);
        }
        assert_eq!(t.refusal(&a, 0), Verdict::Hold);
        assert_eq!(t.refusal(&a, 10_999), Verdict::Hold);
        assert!(matches!(t.refusal(&a, 11_000), Verdict::Write { .. }));
    }

    #[test]
    fn the_detail_says_how_many_were_not_kept() {
        assert_eq!(detail("bad signature", 0), "bad signature");
        assert!(detail("bad signature", 1).contains("1 refusal just before"));
        assert!(detail("bad signature", 7).contains("7 refusals just before"));
    }
}
