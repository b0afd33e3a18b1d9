//! Leases and what happens when they run out: the heartbeat that keeps a
//! running step's lease while its process lives, and recovery of steps
//! whose worker died and of runs past their deadline.

use super::{Engine, Result};
use app::domain::run::RunStatus;
use app::ops::progress;
use app::store::runs::{self, RunEnd};
use std::time::Duration;

impl Engine {
    /// Runs `work` (the attempt of `c`) while renewing its lease every third
    /// of the lease, so a long step is never presumed dead while this
    /// process lives. Renewal stops at the step timeout plus one lease: a
    /// worker stuck past its timeout loses the step like a dead one.
    pub(super) async fn with_heartbeat<F: std::future::Future>(
        &self,
        c: &runs::Claimed,
        started: i64,
        work: F,
    ) -> F::Output {
        let every = Duration::from_millis((self.lease_ms / 3).max(1) as u64);
        let cap = started
            .saturating_add(self.step_timeout_ms)
            .saturating_add(self.lease_ms);
        let work = std::pin::pin!(work);
        // Beside the work, not in turn with it: the work may hold the
        // write gate (its completion's transaction) when a renewal comes
        // due, and must go on being polled while the renewal waits its turn.
        let heartbeat = async {
            loop {
                tokio::time::sleep(every).await;
                let until = self.clock.now().saturating_add(self.lease_ms).min(cap);
                let renewed = match self.db.write_each().await {
                    Ok(mut conn) => runs::renew_lease(&mut conn, c, &self.worker, until).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = renewed {
                    tracing::warn!(error = %e, "could not renew the lease of a running step");
                }
            }
        };
        tokio::select! {
            out = work => out,
            _ = heartbeat => unreachable!("the heartbeat never ends"),
        }
    }

    /// Returns expired leases to the queue and fails runs past their
    /// deadline, each step and each run in a transaction of its own: one
    /// that cannot be recovered (logged) never holds up the others, nor the
    /// server's start.
    /// The process is stopping: the steps its workers still hold after
    /// their grace period go back to the queue now, instead of when their
    /// leases run out. Returns how many.
    pub async fn release_held(&self) -> Result<usize> {
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        let released = runs::release_held(&mut tx, &self.worker, now).await?;
        tx.commit().await?;
        for (run_id, node_id) in &released {
            tracing::warn!(%run_id, node_id, "released a step that had not finished at shutdown");
        }
        Ok(released.len())
    }

    pub async fn recover(&self) -> Result<usize> {
        let now = self.clock.now();
        let (expired, overdue) = {
            let mut conn = self.db.acquire().await?;
            (
                runs::expired_leases(&mut conn, now).await?,
                runs::overdue_runs(&mut conn, now).await?,
            )
        };
        let mut recovered = 0;
        for e in &expired {
            match self.recover_step(e, now).await {
                Ok(true) => recovered += 1,
                Ok(false) => {}
                Err(err) => tracing::error!(run_id = %e.run_id, node_id = %e.node_id, error = %err,
                    "could not recover a step whose worker stopped"),
            }
        }
        let mut timed_out = 0;
        for run_id in &overdue {
            match self.time_out(run_id, now).await {
                Ok(()) => timed_out += 1,
                Err(err) => {
                    tracing::error!(run_id = %run_id, error = %err, "could not end a run past its deadline")
                }
            }
        }
        if recovered > 0 {
            tracing::warn!(steps = recovered, "recovered steps whose worker stopped");
            self.wake();
        }
        Ok(recovered + timed_out)
    }

    /// One expired step back to the queue, or failed (and its run moved
    /// on) when its workers died too often. False if someone else got to
    /// it first.
    async fn recover_step(&self, e: &runs::Expired, now: i64) -> Result<bool> {
        let mut tx = self.db.write().await?;
        let Some(l) = runs::recover_one(&mut tx, e, now).await? else {
            return Ok(false);
        };
        if l.gave_up {
            let run = runs::get_run(&mut tx, &l.run_id).await?;
            let def = self.definition(&run).await?;
            if runs::compensated_node(&l.node_id).is_some() {
                runs::next_compensation(&mut tx, &l.run_id, now).await?;
            } else {
                if progress::has_error_edge(&def, &l.node_id) {
                    runs::set_port(&mut tx, &l.run_id, &l.node_id, app::domain::PORT_ERROR).await?;
                }
                progress::advance(
                    &mut tx,
                    &def,
                    &l.run_id,
                    &[l.node_id.as_str()],
                    "engine",
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        if l.gave_up {
            self.run_ended.notify_waiters();
            self.changes.notify(format!("run:{}", l.run_id));
        }
        Ok(true)
    }

    /// Fails a run past its deadline and queues its compensations.
    async fn time_out(&self, run_id: &app::domain::ids::RunId, now: i64) -> Result<()> {
        let mut tx = self.db.write().await?;
        let run = runs::get_run(&mut tx, run_id).await?;
        let def = self.definition(&run).await?;
        let reason = match def.settings.run_timeout_ms {
            Some(ms) => format!("the run took longer than its timeout of {ms} ms"),
            None => "the run passed its deadline".to_string(),
        };
        let end = RunEnd::failed(RunStatus::Failed, reason);
        if progress::end_run(&mut tx, run_id, &end, "engine", now).await? {
            progress::compensate(&mut tx, &def, run_id, now).await?;
        }
        tx.commit().await?;
        self.run_ended.notify_waiters();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the renewal ran in turn with the work, so a renewal due
    /// while the work held the write gate (its completion committing)
    /// waited for a gate that could never be released.
    #[tokio::test]
    async fn a_renewal_due_while_the_work_holds_the_write_gate_waits_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = app::store::Db::connect(&url, app::store::Durability::Normal)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        // a renewal every 100 ms
        let engine = Engine::new(
            db.clone(),
            std::sync::Arc::new(super::super::SystemClock),
            300,
        );
        let c = runs::Claimed {
            run_id: app::domain::ids::RunId::generate(),
            node_id: "x".into(),
            attempt: 1,
            parked: false,
            cum_in: 1.0,
            input_override: None,
            due_at: 0,
            unwritten: false,
        };
        let work = async {
            let tx = db.write().await.unwrap();
            tokio::time::sleep(Duration::from_millis(350)).await;
            tx.commit().await.unwrap();
            42
        };
        let done = tokio::time::timeout(
            Duration::from_secs(5),
            engine.with_heartbeat(&c, engine.clock.now(), work),
        )
        .await;
        assert_eq!(done, Ok(42), "the work finished while renewals waited");
    }
}
