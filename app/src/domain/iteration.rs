//! For each, decided: which item starts next, when the list is done or
//! has failed past its tolerance, and what the step's output says. Pure:
//! the callers count the item runs and act on the answer.

use super::graph::ForEachConfig;
use serde_json::{Value, json};

/// How a For each's item runs stand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Items in the list.
    pub total: u64,
    /// Item runs started (items start in list order, so item `started`
    /// is the next one).
    pub started: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Item runs cancelled (by a person, or when the list stopped).
    pub cancelled: u64,
}

impl Tally {
    /// Failed items, counting those a person cancelled.
    pub fn failures(&self) -> u64 {
        self.failed + self.cancelled
    }
}

/// What to do after the list was stored or an item run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Start the item at this index.
    Start(u64),
    /// More items failed than tolerated: cancel the running ones, start no
    /// more, and wake the step (it fails).
    Stop,
    /// Every item ended: wake the step.
    Done,
    /// Items are running; the next end decides again.
    Wait,
}

pub fn next(cfg: &ForEachConfig, t: &Tally) -> Next {
    if t.failures() > cfg.allowed_failures(t.total) {
        return if t.running > 0 {
            Next::Stop
        } else {
            Next::Done
        };
    }
    if t.started < t.total && t.running < u64::from(cfg.concurrency.max(1)) {
        return Next::Start(t.started);
    }
    if t.running == 0 {
        Next::Done
    } else {
        Next::Wait
    }
}

/// One ended item, for the step's output.
#[derive(Clone, Debug, PartialEq)]
pub struct Ended {
    pub index: u64,
    pub run_id: String,
    pub succeeded: bool,
    pub output: Option<Value>,
    pub error: Option<String>,
}

/// How many failures the output lists (the rest are on the run page).
pub const LISTED_FAILURES: usize = 10;

/// The step's result once nothing runs: its output, or why it failed.
/// `ended` is every item run in list order when results are gathered,
/// else only the failed ones (at most `LISTED_FAILURES` are read).
pub fn verdict(cfg: &ForEachConfig, t: &Tally, ended: &[Ended]) -> Result<Value, String> {
    let never_started = t.total.saturating_sub(t.started);
    let cancelled = t.cancelled + never_started;
    if t.running > 0 {
        return Err(format!(
            "{} items are still running; this is a bug",
            t.running
        ));
    }
    if t.succeeded + t.failed + cancelled != t.total {
        return Err(format!(
            "the items do not add up: {} in the list, but {} succeeded, {} failed and {} were cancelled",
            t.total, t.succeeded, t.failed, cancelled
        ));
    }
    let failures: Vec<Value> = ended
        .iter()
        .filter(|e| !e.succeeded)
        .take(LISTED_FAILURES)
        .map(|e| json!({"index": e.index, "run_id": e.run_id, "error": e.error}))
        .collect();
    let allowed = cfg.allowed_failures(t.total);
    if t.failures() > allowed {
        let first = ended
            .iter()
            .find(|e| !e.succeeded)
            .map(|e| {
                format!(
                    "; item {} (run {}): {}",
                    e.index,
                    e.run_id,
                    e.error.as_deref().unwrap_or("no reason given")
                )
            })
            .unwrap_or_default();
        return Err(format!(
            "{} of {} items failed, more than the {allowed} tolerated; {} succeeded and {cancelled} were cancelled{first}",
            t.failures(),
            t.total,
            t.succeeded
        ));
    }
    let mut out = json!({
        "total": t.total,
        "succeeded": t.succeeded,
        "failed": t.failed,
        "cancelled": cancelled,
        "failures": failures,
    });
    if cfg.collect_results {
        let results: Vec<Value> = ended
            .iter()
            .map(|e| {
                e.output
                    .clone()
                    .filter(|_| e.succeeded)
                    .unwrap_or(Value::Null)
            })
            .collect();
        if results.len() as u64 != t.total {
            return Err(format!(
                "{} results were read for {} items; this is a bug",
                results.len(),
                t.total
            ));
        }
        out["results"] = Value::Array(results);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(concurrency: u32, tolerated: Option<u64>) -> ForEachConfig {
        ForEachConfig {
            concurrency,
            tolerated_failures: tolerated,
            ..ForEachConfig::over(".x")
        }
    }

    fn t(total: u64, started: u64, running: u64, succeeded: u64, failed: u64) -> Tally {
        Tally {
            total,
            started,
            running,
            succeeded,
            failed,
            cancelled: 0,
        }
    }

    #[test]
    fn items_start_in_order_up_to_the_concurrency() {
        let c = cfg(2, None);
        assert_eq!(next(&c, &t(5, 0, 0, 0, 0)), Next::Start(0));
        assert_eq!(next(&c, &t(5, 1, 1, 0, 0)), Next::Start(1));
        assert_eq!(next(&c, &t(5, 2, 2, 0, 0)), Next::Wait);
        assert_eq!(next(&c, &t(5, 2, 1, 1, 0)), Next::Start(2));
        assert_eq!(next(&c, &t(5, 5, 1, 4, 0)), Next::Wait);
        assert_eq!(next(&c, &t(5, 5, 0, 5, 0)), Next::Done);
        assert_eq!(next(&c, &t(0, 0, 0, 0, 0)), Next::Done);
    }

    #[test]
    fn failures_past_the_tolerance_stop_the_list() {
        let c = cfg(3, Some(1));
        assert_eq!(
            next(&c, &t(10, 4, 2, 1, 1)),
            Next::Start(4),
            "one is tolerated"
        );
        assert_eq!(next(&c, &t(10, 5, 2, 1, 2)), Next::Stop);
        assert_eq!(
            next(&c, &t(10, 5, 0, 3, 2)),
            Next::Done,
            "nothing left to cancel"
        );
    }

    fn ended(index: u64, ok: bool) -> Ended {
        Ended {
            index,
            run_id: format!("run_{index}"),
            succeeded: ok,
            output: ok.then(|| json!(index * 10)),
            error: (!ok).then(|| "boom".to_string()),
        }
    }

    #[test]
    fn the_output_keeps_list_order_and_counts_every_item() {
        let c = cfg(2, Some(1));
        let out = verdict(
            &c,
            &t(3, 3, 0, 2, 1),
            &[ended(0, true), ended(1, false), ended(2, true)],
        )
        .unwrap();
        assert_eq!(out["results"], json!([0, null, 20]));
        assert_eq!(out["failed"], 1);
        assert_eq!(out["failures"][0]["index"], 1);
    }

    #[test]
    fn past_the_tolerance_the_step_fails_naming_the_first_failure() {
        let c = cfg(2, None);
        let mut tally = t(5, 2, 0, 1, 0);
        tally.cancelled = 1;
        let e = verdict(&c, &tally, &[ended(0, true), ended(1, false)]).unwrap_err();
        assert!(
            e.contains("1 of 5 items failed, more than the 0 tolerated"),
            "{e}"
        );
        assert!(e.contains("4 were cancelled"), "{e}");
        assert!(e.contains("item 1 (run run_1): boom"), "{e}");
    }

    #[test]
    fn counts_that_do_not_add_up_fail_loudly() {
        let c = cfg(2, None);
        let e = verdict(&c, &t(3, 3, 0, 2, 0), &[]).unwrap_err();
        assert!(e.contains("do not add up"), "{e}");
        let e = verdict(&c, &t(2, 2, 0, 2, 0), &[ended(0, true)]).unwrap_err();
        assert!(e.contains("1 results were read for 2 items"), "{e}");
    }

    #[test]
    fn without_gathering_the_output_has_counts_only() {
        let c = ForEachConfig {
            collect_results: false,
            ..cfg(2, None)
        };
        let out = verdict(&c, &t(2, 2, 0, 2, 0), &[]).unwrap();
        assert!(out.get("results").is_none());
        assert_eq!(out["succeeded"], 2);
    }
}
