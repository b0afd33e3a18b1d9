//! Waiting for a run to reach a state (a long poll, a synchronous
//! webhook) without holding a worker or looking at the database more
//! than needed.

use super::{Engine, Result};
use app::store::runs::{Brief, brief};
use std::time::Duration;

/// A look at least this often, for a change told some other way.
const FALLBACK: Duration = Duration::from_secs(1);

/// The engine's hint, told in this process only and before `run:<id>`,
/// that it ended run `run_id` (see [`Engine::wait_for_end`]).
pub fn ended_topic(run_id: &str) -> String {
    format!("ended:{run_id}")
}

/// How a wait ended.
enum Waited {
    /// A look found the state waited for.
    Seen(Brief),
    /// The engine told that it ended the run.
    Ended,
    TimedOut,
}

impl Engine {
    /// Run `run_id` once `done` holds for it, or None when `limit` passed
    /// first. Woken by the notices for this run (`run:<id>`: the engine's
    /// commits, a cancel, a decision), never by other runs' progress, and
    /// by a look every second.
    pub async fn wait_for_run(
        &self,
        run_id: &str,
        limit: Duration,
        done: impl Fn(&Brief) -> bool,
    ) -> Result<Option<Brief>> {
        Ok(match self.wait_on(run_id, limit, done, false).await? {
            Waited::Seen(b) => Some(b),
            Waited::Ended | Waited::TimedOut => None,
        })
    }

    /// Whether run `run_id` ended (is no longer running) within `limit`.
    /// As [`Engine::wait_for_run`], but when this process's engine ends
    /// the run its notice answers without another look.
    pub async fn wait_for_end(&self, run_id: &str, limit: Duration) -> Result<bool> {
        let running = |b: &Brief| b.status == app::domain::run::RunStatus::Running;
        Ok(
            match self.wait_on(run_id, limit, |b| !running(b), true).await? {
                Waited::Seen(_) | Waited::Ended => true,
                Waited::TimedOut => false,
            },
        )
    }

    async fn wait_on(
        &self,
        run_id: &str,
        limit: Duration,
        done: impl Fn(&Brief) -> bool,
        ended_will_do: bool,
    ) -> Result<Waited> {
        let deadline = tokio::time::Instant::now() + limit;
        let changed = self.changes.watch(format!("run:{run_id}"));
        let ended = ended_will_do.then(|| self.changes.watch(ended_topic(run_id)));
        loop {
            // enabled before the look, so a notice in between is kept
            let woken = changed.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let mut end = ended.as_ref().map(|e| Box::pin(e.notified()));
            if let Some(e) = end.as_mut() {
                e.as_mut().enable();
            }
            let b = {
                let mut conn = self.db.acquire().await?;
                brief(&mut conn, run_id).await?
            };
            if done(&b) {
                return Ok(Waited::Seen(b));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Waited::TimedOut);
            }
            let next_look = (tokio::time::Instant::now() + FALLBACK).min(deadline);
            let told_end = async {
                match end {
                    Some(e) => e.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // told together: the end first, which needs no look
                biased;
                _ = told_end => return Ok(Waited::Ended),
                _ = woken => {}
                _ = tokio::time::sleep_until(next_look) => {}
            }
        }
    }
}
