//! The retention loop: every so often, each workflow's finished runs past
//! its retention are deleted a small batch per transaction (see
//! `app::store::retention`), with a pause between batches so the engine's
//! own writes go first: on SQLite there is one writer, and a long delete
//! would hold every step's commit up behind it.

use super::Engine;
use app::store::retention;
use std::sync::Arc;
use std::time::Duration;

/// How retention runs.
#[derive(Clone, Copy, Debug)]
pub struct RetentionConfig {
    /// Days finished runs are kept when their workflow says nothing (0:
    /// for ever).
    pub default_days: i64,
    /// Root runs per transaction.
    pub batch: i64,
    /// Between two batches.
    pub pause: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            default_days: 0,
            batch: 200,
            pause: Duration::from_millis(20),
        }
    }
}

/// What a sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Swept {
    pub batches: u64,
    pub runs: u64,
    pub with_children: u64,
}

impl Engine {
    /// Deletes every run past its workflow's retention, at the clock's now,
    /// batch by batch; stops early when `stop` says so.
    pub async fn sweep_retention(
        &self,
        config: &RetentionConfig,
        stop: Option<&tokio::sync::watch::Receiver<bool>>,
    ) -> super::Result<Swept> {
        let now = self.clock.now();
        let due = {
            let mut conn = self.db.acquire().await?;
            retention::workflows_due(&mut conn, config.default_days).await?
        };
        let mut swept = Swept::default();
        for d in due {
            let cutoff = now.saturating_sub(d.days.saturating_mul(86_400_000));
            loop {
                if stop.is_some_and(|s| *s.borrow()) {
                    return Ok(swept);
                }
                let mut tx = self.db.write().await?;
                let gone =
                    retention::delete_batch(&mut tx, &d, cutoff, config.batch.max(1), now).await?;
                tx.commit().await?;
                if gone.runs == 0 {
                    break;
                }
                swept.batches += 1;
                swept.runs += gone.runs;
                swept.with_children += gone.with_children;
                tokio::time::sleep(config.pause).await;
            }
        }
        if swept.runs > 0 {
            tracing::info!(
                runs = swept.runs,
                batches = swept.batches,
                "retention: deleted finished runs past their workflow's retention"
            );
        }
        Ok(swept)
    }

    /// Runs [`Engine::sweep_retention`] every `every` until `shutdown`.
    pub fn spawn_retention(
        self: &Arc<Self>,
        every: Duration,
        config: RetentionConfig,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        super::workers::periodic(every, shutdown, move |stop| {
            let engine = engine.clone();
            async move {
                if let Err(e) = engine.sweep_retention(&config, Some(&stop)).await {
                    tracing::error!(error = %e, "retention failed; it is tried again later");
                }
            }
        })
    }
}
