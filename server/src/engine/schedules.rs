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
use crate::hooks;
use crate::sandbox::{Job, Request};
use app::domain::triggers::plan::{self, Action, Busy, Catch, Due};
use app::domain::triggers::schedule::{Schedule, jitter, utc};
use app::domain::triggers::{EventOutcome, ScheduleSpec, Trigger, TriggerSpec};
use app::ops::runs::{self, Runnable};
use app::store::{StoreError, triggers as store};
use serde_json::{Value, json};
use std::collections::VecDeque;

/// Due fires handled one by one; older ones are counted in one event.
const MAX_DUE: usize = 100;
/// Nominal times looked at before giving up on catching up (a schedule
/// every second and a week of downtime).
const MAX_SCAN: usize = 1_000_000;

impl Engine {
    /// Fires every schedule that is due now, and starts fires waiting for a
    /// run to end. Returns how many runs it started. A schedule that fails
    /// is logged and left for the next pass; it never blocks the others.
    pub async fn fire_schedules(&self) -> Result<usize> {
        let now = self.clock.now();
        let (due, queued) = {
            let mut conn = self.db.pool.acquire().await?;
            (
                store::due_schedules(&mut conn, now).await?,
                store::with_queued(&mut conn).await?,
            )
        };
        let mut started = 0;
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
        Ok(started)
    }

    /// Keeps each trigger's history bounded: its newest `KEEP_EVENTS`
    /// events, and every delivery key young enough to still matter (the
    /// longest retention a webhook may have).
    pub async fn prune_trigger_events(&self) -> Result<()> {
        const KEEP_EVENTS: i64 = 1_000;
        let since = self.clock.now() - app::domain::triggers::MAX_RETENTION_MS;
        let ids = {
            let mut conn = self.db.pool.acquire().await?;
            store::all_ids(&mut conn).await?
        };
        for id in ids {
            let mut tx = self.db.write().await?;
            store::prune(&mut tx, &id, KEEP_EVENTS, since).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// When the scheduler next has something to do (ms since the epoch).
    pub async fn next_schedule(&self) -> Result<Option<i64>> {
        let mut conn = self.db.pool.acquire().await?;
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
            let mut conn = self.db.pool.acquire().await?;
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
                        &hooks::actor(t),
                        r,
                        &input,
                        runs::Via::Schedule(&t.id),
                        now,
                    )
                    .await
                    .map_err(|e| StoreError::Corrupt(e.message))?;
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

    /// The published version, or why there is none to run.
    async fn published(&self, t: &Trigger) -> std::result::Result<Runnable, String> {
        match app::ops::workflows::published(&self.db, &t.workflow_id).await {
            Ok(Some(v)) => runs::runnable(&self.db, &t.workflow_id, Some(v))
                .await
                .map_err(|e| e.message),
            Ok(None) => Err(
                "the workflow has no published version; publish one to let the schedule start it"
                    .into(),
            ),
            Err(e) => Err(e.message),
        }
    }

    /// The run input for the fire at `d`: the schedule's input, or its
    /// mapping over `{input, nominal_time, fire_time, nominal_ms}`; checked
    /// against the Start schema.
    async fn input(
        &self,
        sched: &Schedule,
        spec: &ScheduleSpec,
        r: &Runnable,
        d: &Due,
    ) -> std::result::Result<Value, String> {
        let input = match &spec.mapping {
            None => spec.input.clone(),
            Some(code) => {
                let ctx = json!({
                    "input": spec.input,
                    "nominal_time": sched.local(d.nominal),
                    "fire_time": sched.local(d.fire_at),
                    "nominal_ms": d.nominal,
                });
                let out = self
                    .sandbox
                    .run(&Request::over(&ctx, vec![Job::jq(code)]))
                    .await
                    .map_err(|e| format!("the mapping could not run: {e:?}"))?;
                out.into_iter()
                    .next()
                    .unwrap_or_else(|| Err("no result".into()))
                    .map_err(|e| format!("the mapping failed: {e}"))?
            }
        };
        runs::check_input(&r.def, &input).map_err(|e| e.message)?;
        Ok(input)
    }

    async fn cancel_runs(&self, t: &Trigger, running: &[String], now: i64) {
        for id in running {
            if let Err(e) = runs::cancel(&self.db, &hooks::actor(t), id, now).await {
                tracing::warn!(run_id = %id, error = %e, "could not cancel the schedule's earlier run");
            }
        }
    }

    async fn pause(&self, t: &Trigger, why: &str, now: i64) -> Result<()> {
        let mut tx = self.db.write().await?;
        store::set_paused(&mut tx, &t.id, true, Some(why), None, now).await?;
        record(&mut tx, t, now, EventOutcome::Paused, why, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts the oldest fire waiting for this schedule's runs to end.
    async fn start_queued(&self, id: &app::domain::ids::TriggerId, now: i64) -> Result<usize> {
        let (t, running, queued) = {
            let mut conn = self.db.pool.acquire().await?;
            let t = match store::get(&mut conn, id).await {
                Ok(t) => t,
                Err(StoreError::NotFound) => return Ok(0),
                Err(e) => return Err(e),
            };
            (
                t,
                store::running(&mut conn, id).await?,
                store::queued(&mut conn, id).await?,
            )
        };
        let (TriggerSpec::Schedule(spec), false, Some(&(event_id, nominal))) =
            (&t.spec, t.paused, queued.first())
        else {
            return Ok(0);
        };
        if !running.is_empty() {
            return Ok(0);
        }
        let sched = Schedule::new(spec).map_err(StoreError::Corrupt)?;
        let d = Due {
            nominal,
            fire_at: nominal,
        };
        let runnable = self.published(&t).await;
        let mut tx = self.db.write().await?;
        let input = match &runnable {
            Ok(r) => self.input(&sched, spec, r, &d).await.map(|i| (r, i)),
            Err(why) => Err(why.clone()),
        };
        match input {
            Ok((r, input)) => {
                let run_id = runs::start_in(
                    &mut tx,
                    &hooks::actor(&t),
                    r,
                    &input,
                    runs::Via::Schedule(&t.id),
                    now,
                )
                .await
                .map_err(|e| StoreError::Corrupt(e.message))?;
                if !store::start_queued(&mut tx, event_id, &run_id, now).await? {
                    return Ok(0); // started elsewhere; this run is rolled back
                }
                tx.commit().await?;
                Ok(1)
            }
            Err(why) => {
                sqlx::query("UPDATE trigger_events SET outcome = 'skipped', detail = ? WHERE id = ? AND outcome = 'queued'")
                    .bind(why)
                    .bind(event_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(0)
            }
        }
    }
}

enum Planned {
    Start(Value),
    Queue,
    Skip(String),
    Missed(String),
}

/// The fires due at `now` from `first` on (the last `MAX_DUE`), how many
/// older ones were dropped (count, first, last nominal), and the next
/// nominal time not yet due.
#[allow(clippy::type_complexity)]
fn due_fires(
    sched: &Schedule,
    t: &Trigger,
    spec: &ScheduleSpec,
    first: i64,
    now: i64,
) -> (Vec<Due>, Option<(usize, i64, i64)>, Option<i64>) {
    let mut due: VecDeque<Due> = VecDeque::new();
    let mut dropped: Option<(usize, i64, i64)> = None;
    let mut n = Some(first);
    let mut scanned = 0;
    while let Some(nominal) = n.filter(|n| *n <= now) {
        if scanned == MAX_SCAN {
            // too far behind to list: what is left counts as one gap
            let resume = sched.next_after(now);
            dropped = Some(match dropped {
                None => (0, nominal, now),
                Some((c, f, _)) => (c, f, now),
            });
            return (due.into(), dropped, resume);
        }
        scanned += 1;
        let next = sched.next_after(nominal);
        let fire_at = nominal + jitter(&t.id, nominal, next, spec.jitter_ms);
        if fire_at > now {
            break;
        }
        due.push_back(Due { nominal, fire_at });
        if due.len() > MAX_DUE
            && let Some(old) = due.pop_front()
        {
            dropped = Some(match dropped {
                None => (1, old.nominal, old.nominal),
                Some((c, f, _)) => (c + 1, f, old.nominal),
            });
        }
        n = next;
    }
    (due.into(), dropped, n)
}

async fn record(
    tx: &mut sqlx::SqliteConnection,
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
