//! What a fire needs around it: the published version, the input, the
//! runs it cancels, pausing, and starting the fires that waited.

use super::{Engine, Result, record};
use crate::sandbox::{Job, Request};
use app::domain::triggers::plan::Due;
use app::domain::triggers::schedule::Schedule;
use app::domain::triggers::{EventOutcome, ScheduleSpec, Trigger, TriggerSpec};
use app::ops::runs::{self, Runnable};
use app::store::{StoreError, triggers as store};
use serde_json::{Value, json};

impl Engine {
    /// The published version, or why there is none to run.
    pub(super) async fn published(&self, t: &Trigger) -> std::result::Result<Runnable, String> {
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
    pub(super) async fn input(
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

    pub(super) async fn cancel_runs(&self, t: &Trigger, running: &[String], now: i64) {
        for id in running {
            if let Err(e) = runs::cancel(&self.db, &t.actor(), id, now).await {
                tracing::warn!(run_id = %id, error = %e, "could not cancel the schedule's earlier run");
            }
        }
    }

    pub(super) async fn pause(&self, t: &Trigger, why: &str, now: i64) -> Result<()> {
        let mut tx = self.db.write().await?;
        store::set_paused(&mut tx, &t.id, true, Some(why), None, now).await?;
        record(&mut tx, t, now, EventOutcome::Paused, why, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts the oldest fire waiting for this schedule's runs to end.
    pub(super) async fn start_queued(
        &self,
        id: &app::domain::ids::TriggerId,
        now: i64,
    ) -> Result<usize> {
        let (t, running, queued) = {
            let mut conn = self.db.acquire().await?;
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
                    &t.actor(),
                    r,
                    &input,
                    runs::Via::Schedule(&t.id),
                    now,
                )
                .await?;
                if !store::start_queued(&mut tx, event_id, &run_id, now).await? {
                    return Ok(0); // started elsewhere; this run is rolled back
                }
                tx.commit().await?;
                Ok(1)
            }
            Err(why) => {
                app::store::conn::query("UPDATE trigger_events SET outcome = 'skipped', detail = $1 WHERE id = $2 AND outcome = 'queued'")
                    .bind(why)
                    .bind(event_id)
                    .execute(&mut tx)
                    .await?;
                tx.commit().await?;
                Ok(0)
            }
        }
    }
}
