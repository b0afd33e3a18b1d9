//! The run's timeline: one row per step that started, with a segment per
//! attempt (coloured by how it ended) and the waits between them (a retry's
//! back-off, a delay, a person deciding) drawn as gaps of their own.

use crate::domain::human_duration;
use crate::domain::records::{AttemptRecord, StepRecord};
use crate::domain::run::StepStatus;
use leptos::prelude::*;

/// A piece of a row, in percent of the run's span.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub left: f64,
    pub width: f64,
    /// `bar status-…` for an attempt, `gap` for a wait.
    pub class: String,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub node_id: String,
    pub segments: Vec<Segment>,
}

/// When a waiting step is due to wake (a delay, a retry's back-off); none
/// when a person or an event wakes it.
fn wakes_at(s: &StepRecord) -> Option<i64> {
    // 2100-01-01: later than any timer; "never" is far beyond it
    const HORIZON: i64 = 4_102_444_800_000;
    (matches!(s.status, StepStatus::Waiting | StepStatus::Ready) && s.not_before < HORIZON)
        .then_some(s.not_before)
}

/// The rows for `steps` and their attempt log, from the run's start `t0`
/// to the latest time anything is known to have happened or is planned
/// (open segments end there, so the server and the browser draw the same
/// thing).
pub fn rows(
    steps: &[StepRecord],
    log: &[AttemptRecord],
    t0: i64,
    run_end: Option<i64>,
) -> Vec<Row> {
    let t1 = steps
        .iter()
        .flat_map(|s| [s.started_at, s.finished_at, wakes_at(s)])
        .chain(log.iter().map(|a| Some(a.finished_at)))
        .chain([run_end])
        .flatten()
        .max()
        .unwrap_or(t0)
        .max(t0 + 1);
    let span = (t1 - t0) as f64;
    let piece = |from: i64, to: i64, class: String, title: String| Segment {
        left: (from - t0).max(0) as f64 / span * 100.0,
        width: ((to - from).max(0) as f64 / span * 100.0).max(0.6),
        class,
        title,
    };
    let bar = |status: &str| format!("bar status-{status}");
    steps
        .iter()
        .filter_map(|s| {
            let started = s.started_at?;
            let mut tries: Vec<&AttemptRecord> =
                log.iter().filter(|a| a.node_id == s.node_id).collect();
            tries.sort_by_key(|a| (a.attempt, a.started_at));
            let open = !s.status.is_final();
            let mut segments = vec![];
            for (i, a) in tries.iter().enumerate() {
                let status = match a.outcome.as_str() {
                    "parked" => "waiting",
                    other => other,
                };
                segments.push(piece(
                    a.started_at,
                    a.finished_at,
                    bar(status),
                    format!(
                        "attempt {}: {} after {}",
                        a.attempt,
                        a.outcome,
                        human_duration((a.finished_at - a.started_at).max(0) as u64)
                    ),
                ));
                let until = match tries.get(i + 1) {
                    Some(next) => Some(next.started_at),
                    None if open && s.status == StepStatus::Running && started > a.finished_at => {
                        Some(started)
                    }
                    None if open => Some(wakes_at(s).unwrap_or(t1)),
                    None => None,
                };
                if let Some(until) = until.filter(|u| *u > a.finished_at) {
                    let why = match (a.outcome.as_str(), wakes_at(s)) {
                        ("failed", _) => "waiting to retry",
                        (_, Some(_)) if open => "waiting for its timer",
                        _ => "waiting (a timer or a person)",
                    };
                    segments.push(piece(
                        a.finished_at,
                        until,
                        "gap".into(),
                        format!("{why}: {}", human_duration((until - a.finished_at) as u64)),
                    ));
                }
            }
            let running_since = match tries.last() {
                None => Some(started),
                Some(last) if s.status == StepStatus::Running && started > last.finished_at => {
                    Some(started)
                }
                _ => None,
            };
            if let Some(from) = running_since {
                let to = s.finished_at.unwrap_or(t1);
                segments.push(piece(
                    from,
                    to,
                    bar(s.status.as_str()),
                    format!(
                        "{}: {}",
                        s.status,
                        human_duration((to - from).max(0) as u64)
                    ),
                ));
            }
            Some(Row {
                node_id: s.node_id.clone(),
                segments,
            })
        })
        .collect()
}

#[component]
pub fn Timeline(rows: Vec<Row>) -> impl IntoView {
    rows.into_iter()
        .map(|r| {
            let label = r.node_id.clone();
            view! {
                <div class="bar-row" data-step=r.node_id>
                    <span class="bar-label"><code>{label}</code></span>
                    <span class="bar-track">
                        {r.segments.into_iter().map(|s| view! {
                            <span class=s.class title=s.title style=format!("left:{:.2}%;width:{:.2}%", s.left, s.width)></span>
                        }).collect_view()}
                    </span>
                </div>
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(
        id: &str,
        status: StepStatus,
        started: Option<i64>,
        finished: Option<i64>,
    ) -> StepRecord {
        StepRecord {
            node_id: id.into(),
            status,
            attempt: 0,
            not_before: 0,
            port: None,
            output: None,
            error_class: None,
            error: None,
            confidence: None,
            cum_confidence: None,
            started_at: started,
            finished_at: finished,
            pass: 0,
            iterations: vec![],
        }
    }

    fn attempt(id: &str, n: i64, from: i64, to: i64, outcome: &str) -> AttemptRecord {
        AttemptRecord {
            node_id: id.into(),
            attempt: n,
            worker: "w".into(),
            started_at: from,
            finished_at: to,
            input: None,
            output: None,
            outcome: outcome.into(),
            error_class: None,
            error: None,
            confidence: None,
            pass: 0,
            lineage: None,
            model_call: None,
            console: vec![],
        }
    }

    fn classes(r: &Row) -> Vec<&str> {
        r.segments.iter().map(|s| s.class.as_str()).collect()
    }

    #[test]
    fn a_retried_step_shows_each_attempt_and_the_wait_between() {
        // 0..1000 ms: attempt 1 fails at 100, retried at 600, succeeds at 1000
        let steps = [step("call", StepStatus::Succeeded, Some(600), Some(1000))];
        let log = [
            attempt("call", 1, 0, 100, "failed"),
            attempt("call", 2, 600, 1000, "succeeded"),
        ];
        let r = &rows(&steps, &log, 0, Some(1000))[0];
        assert_eq!(
            classes(r),
            ["bar status-failed", "gap", "bar status-succeeded"]
        );
        let gap = &r.segments[1];
        assert_eq!((gap.left, gap.width), (10.0, 50.0));
        assert!(gap.title.starts_with("waiting to retry"), "{}", gap.title);
    }

    #[test]
    fn a_waiting_step_waits_to_the_end_and_a_running_one_runs_to_it() {
        // a person decides: no timer (the engine's "never")
        let mut hold = step("hold", StepStatus::Waiting, Some(0), None);
        hold.not_before = i64::MAX / 2;
        let steps = [
            hold,
            step("call", StepStatus::Running, Some(500), None),
            step("later", StepStatus::Pending, None, None),
        ];
        let log = [attempt("hold", 1, 0, 200, "parked")];
        let out = rows(&steps, &log, 0, None);
        assert_eq!(out.len(), 2, "a step that never started has no row");
        assert_eq!(classes(&out[0]), ["bar status-waiting", "gap"]);
        // the latest known time is the running step's start (500)
        assert_eq!(out[0].segments[1].width, 60.0);
        assert_eq!(classes(&out[1]), ["bar status-running"]);
    }

    #[test]
    fn a_delay_shows_the_wait_until_its_timer() {
        let mut delay = step("pause", StepStatus::Waiting, Some(0), None);
        delay.not_before = 1_000;
        let log = [attempt("pause", 1, 0, 100, "parked")];
        let r = &rows(&[delay], &log, 0, None)[0];
        assert_eq!(classes(r), ["bar status-waiting", "gap"]);
        assert_eq!((r.segments[1].left, r.segments[1].width), (10.0, 90.0));
        assert!(r.segments[1].title.starts_with("waiting for its timer"));
    }
}
