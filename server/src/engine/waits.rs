//! Waiting for a run to reach a state (a long poll, a synchronous
//! webhook) without holding a worker or looking at the database more
//! than needed.

use super::{Engine, Result};
use app::store::runs::{Brief, brief};
use std::time::Duration;

/// A look at least this often, for a change told some other way.
const FALLBACK: Duration = Duration::from_secs(1);

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
        use tokio::sync::broadcast::error::RecvError;
        let deadline = tokio::time::Instant::now() + limit;
        let topic = format!("run:{run_id}");
        // subscribed before the first look, so a notice in between is kept
        let mut changes = self.changes.subscribe();
        loop {
            let b = {
                let mut conn = self.db.acquire().await?;
                brief(&mut conn, run_id).await?
            };
            if done(&b) {
                return Ok(Some(b));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            let next_look = (tokio::time::Instant::now() + FALLBACK).min(deadline);
            loop {
                tokio::select! {
                    msg = changes.recv() => match msg {
                        Ok(t) if *t == *topic => break,
                        Ok(_) => continue,
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => {
                            tokio::time::sleep_until(next_look).await;
                            break;
                        }
                    },
                    _ = tokio::time::sleep_until(next_look) => break,
                }
            }
        }
    }
}
