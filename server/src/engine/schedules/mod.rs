//! The scheduler: fires schedules at their nominal times.
//!
//! Each schedule keeps its next unhandled nominal time. When it is due, the
//! scheduler lists every nominal time from there to now, decides with
//! `domain::triggers::plan` what each does (run, wait in turn, skip,
//! missed), and records all of it in one transaction: the events, the runs
//! they start and the new next nominal time. A nominal time is unique per
//! schedule in the events table, so a restart in the middle, a clock that
//! jumps back or a second server process cannot fire it twice.

use super::{Engine, Result};
use app::domain::triggers::plan::{self, Action, Busy, Catch};
use app::domain::triggers::schedule::{Schedule, utc};
use app::domain::triggers::{EventOutcome, Trigger, TriggerSpec};
use app::ops::runs;
use app::store::{StoreError, triggers as store};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

mod due;
mod support;

use due::due_fires;

/// What one pass of the scheduler did.
struct Pass {
    /// Runs it started.
    started: usize,
    /// Whether a fire may be waiting for a run to end: one was queued
    /// before, or a schedule fired (and may have queued one).
    may_wait: bool,
}

impl Engine {
    /// Tells the scheduler a schedule changed (added, resumed, edited).
    pub fn schedules_changed(&self) {
        self.schedules_changed.notify_one();
    }

    /// Fires schedules when due: sleeps until the earliest next nominal
    /// time (at most a second, at least 200 ms while a jittered fire
    /// waits), a schedule changes, or a run ends (a queued fire may start).
    pub(super) async fn scheduler_loop(
        self: Arc<Self>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        const PRUNE_EVERY: Duration = Duration::from_secs(600);
        let mut pruned = tokio::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                return;
            }
            if pruned.elapsed() >= PRUNE_EVERY {
                pruned = tokio::time::Instant::now();
                if let Err(e) = self.prune_trigger_events().await {
                    tracing::warn!(error = %e, "could not prune the triggers' histories");
                }
            }
            let changed = self.schedules_changed.notified();
            let ended = self.run_ended.notified();
            // a run's end matters only to a fire waiting for it: one
            // queued, or one this pass may have queued
            let waiting = match self.fire_pass().await {
                Ok(pass) => pass.may_wait,
                Err(e) => {
                    tracing::error!(error = %e, "the scheduler could not look for due schedules");
                    true
                }
            };
            let wait = match self.next_schedule().await {
                Ok(Some(t)) => (t - self.clock.now()).clamp(200, 1000) as u64,
                _ => 1000,
            };
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = changed => {}
                _ = ended, if waiting => {}
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            }
        }
    }

    /// Fires every schedule that is due now, and starts fires waiting for a
    /// run to end. Returns how many runs it started. A schedule that fails
    /// is logged and left for the next pass; it never blocks the others.
    pub async fn fire_schedules(&self) -> Result<usize> {
        Ok(self.fire_pass().await?.started)
    }

    async fn fire_pass(&self) -> Result<Pass> {
        let now = self.clock.now();
        let (due, queued) = {
            let mut conn = self.db.acquire().await?;
            (
                store::due_schedules(&mut conn, now).await?,
                store::with_queued(&mut conn).await?,
            )
        };
        let mut started = 0;
        let (had_due, had_queued) = (!due.is_empty(), !queued.is_empty());
        for (t, next) in due {
            match self.fire(&t, next, now).await {
                Ok(n) => started += n,
                Err(e) => {
                    tracing::error!(trigger_id = %t.id, error = %e, "schedule could not fire")
                }
            }
        }
        for id in queued {
            match self.start_queued(&id, now).await {
                Ok(n) => started += n,
                Err(e) => {
                    tracing::error!(trigger_id = %id, error = %e, "queued fire could not start")
                }
            }
        }
        if started > 0 {
            self.wake();
        }
        Ok(Pass {
            started,
            may_wait: had_due || had_queued,
        })
    }

    /// When the scheduler next has something to do (ms since the epoch).
    pub async fn next_schedule(&self) -> Result<Option<i64>> {
        let mut conn = self.db.acquire().await?;
        store::next_nominal(&mut conn).await
    }

    async fn fire(&self, t: &Trigger, first: i64, now: i64) -> Result<usize> {
        let TriggerSpec::Schedule(spec) = &t.spec else {
            return Ok(0);
        };
        let sched = match Schedule::new(spec) {
            Ok(s) => s,
            Err(why) => {
                return self
                    .pause(t, &format!("its settings cannot be read: {why}"), now)
                    .await
                    .map(|_| 0);
            }
        };
        let (due, dropped, next) = due_fires(&sched, t, spec, first, now);
        if due.is_empty() && dropped.is_none() {
            return Ok(0); // jittered: not yet
        }
        let catches = plan::catch_up(spec.catch_up, &due, now);
        let (running, queued, ends) = {
            let mut conn = self.db.acquire().await?;
            let limit = i64::from(spec.pause_after_failures.unwrap_or(0));
            (
                store::running(&mut conn, &t.id).await?,
                store::queued(&mut conn, &t.id).await?,
                // runs since it was last changed or resumed: a person who
                // resumes it gives it a fresh count
                store::recent_ends(&mut conn, &t.id, t.updated_at, limit).await?,
            )
        };
        let paused = plan::should_pause(spec.pause_after_failures, &ends);
        let mut busy = Busy {
            running: running.len(),
            queued: queued.len(),
        };
        let runnable = self.published(t).await;
        let mut planned = Vec::with_capacity(due.len());
        for (d, catch) in due.iter().zip(&catches) {
            let outcome = match catch {
                _ if paused => Planned::Skip(format!(
                    "the schedule paused itself after {} failed runs in a row",
                    spec.pause_after_failures.unwrap_or(0)
                )),
                Catch::Missed(why) => Planned::Missed(why.clone()),
                catch => match plan::on_fire(spec.overlap, catch, &mut busy) {
                    Action::Skip(why) => Planned::Skip(why),
                    Action::Queue => Planned::Queue,
                    action => {
                        if action == Action::CancelOthersThenStart {
                            self.cancel_runs(t, &running, now).await;
                        }
                        match &runnable {
                            Ok(r) => match self.input(&sched, spec, r, d).await {
                                Ok(input) => Planned::Start(input),
                                Err(why) => Planned::Skip(why),
                            },
                            Err(why) => Planned::Skip(why.clone()),
                        }
                    }
                },
            };
            planned.push((d.nominal, outcome));
        }
        let mut tx = self.db.write().await?;
        if !store::still_due(&mut tx, &t.id, first).await? {
            return Ok(0); // handled by another scheduler meanwhile
        }
        if let Some((count, from, to)) = dropped {
            let detail = format!(
                "{} fires from {} to {} were missed while the server was not running",
                if count == 0 {
                    "many".to_string()
                } else {
                    count.to_string()
                },
                utc(from),
                utc(to)
            );
            record(&mut tx, t, now, EventOutcome::Missed, &detail, None, None).await?;
        }
        let mut started = 0;
        for (nominal, p) in planned {
            if store::handled(&mut tx, &t.id, nominal).await? {
                continue; // by another process, or before a restart
            }
            let r = match p {
                Planned::Missed(why) => {
                    record(
                        &mut tx,
                        t,
                        now,
                        EventOutcome::Missed,
                        &why,
                        None,
                        Some(nominal),
                    )
                    .await
                }
                Planned::Skip(why) => {
                    record(
                        &mut tx,
                        t,
                        now,
                        EventOutcome::Skipped,
                        &why,
                        None,
                        Some(nominal),
                    )
                    .await
                }
                Planned::Queue => {
                    record(
                        &mut tx,
                        t,
                        now,
                        EventOutcome::Queued,
                        "",
                        None,
                        Some(nominal),
                    )
                    .await
                }
                Planned::Start(input) => {
                    let r = runnable
                        .as_ref()
                        .expect("planned to start only with a version");
                    let run_id = runs::start_in(
                        &mut tx,
                        &t.actor(),
                        r,
                        &input,
                        runs::Via::Schedule(&t.id),
                        now,
                    )
                    .await?;
                    let done = record(
                        &mut tx,
                        t,
                        now,
                        EventOutcome::Started,
                        "",
                        Some(&run_id),
                        Some(nominal),
                    )
                    .await;
                    if done.is_ok() {
                        started += 1;
                    }
                    done
                }
            };
            match r {
                // recorded meanwhile (cannot happen under SQLite's write
                // lock; the index is the backstop): roll back, look again
                Err(StoreError::Conflict(_)) => {
                    drop(tx);
                    return Ok(0);
                }
                other => {
                    other?;
                }
            }
        }
        if paused {
            let why = format!(
                "paused after {} failed runs in a row",
                spec.pause_after_failures.unwrap_or(0)
            );
            store::set_paused(&mut tx, &t.id, true, Some(&why), None, now).await?;
            record(&mut tx, t, now, EventOutcome::Paused, &why, None, None).await?;
        } else {
            store::set_next(&mut tx, &t.id, next).await?;
        }
        tx.commit().await?;
        Ok(started)
    }
}

enum Planned {
    Start(Value),
    Queue,
    Skip(String),
    Missed(String),
}

async fn record(
    tx: &mut app::store::conn::Conn,
    t: &Trigger,
    now: i64,
    outcome: EventOutcome,
    detail: &str,
    run_id: Option<&str>,
    nominal_at: Option<i64>,
) -> Result<i64> {
    store::insert_event(
        tx,
        &store::NewEvent {
            trigger_id: &t.id,
            at: now,
            outcome,
            detail,
            run_id,
            delivery_key: None,
            nominal_at,
        },
    )
    .await
}
