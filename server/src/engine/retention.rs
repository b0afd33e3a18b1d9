//! The retention loop: every so often, each workflow's finished runs past
//! its retention are deleted a small batch per transaction (see
//! `app::store::retention`), with a pause between batches so the engine's
//! own writes go first: on SQLite there is one writer, and a long delete
//! would hold every step's commit up behind it. The batch is sized by
//! time: a transaction should take a few milliseconds, and the pause after
//! it is four times as long, so retention holds the write lock a fifth of
//! the time at most.

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
    /// The most root runs one transaction deletes.
    pub batch: i64,
    /// How long one transaction should hold the write lock: the batch
    /// halves when a transaction took longer and doubles (up to `batch`)
    /// when it took less than half.
    pub target: Duration,
    /// The least pause between two transactions; the pause is also at
    /// least four times what the last one took, so retention holds the
    /// write lock a fifth of the time at most.
    pub pause: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            default_days: 0,
            batch: 200,
            target: Duration::from_millis(4),
            pause: Duration::from_millis(10),
        }
    }
}

/// The next batch size and pause after a transaction of `size` roots took
/// `took`.
pub fn next_batch(config: &RetentionConfig, size: i64, took: Duration) -> (i64, Duration) {
    let size = if took > config.target {
        (size / 2).max(1)
    } else if took < config.target / 2 {
        (size * 2).min(config.batch.max(1))
    } else {
        size
    };
    (size, config.pause.max(took * 4))
}

/// What a sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Swept {
    pub batches: u64,
    pub runs: u64,
    pub with_children: u64,
    /// Notifications delivered or given up more than a month ago.
    pub notifications: u64,
}

/// How long delivered and given-up notifications stay in the outbox.
pub const NOTIFICATIONS_KEPT_MS: i64 = 30 * 86_400_000;

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
            let mut size = 8.min(config.batch.max(1));
            loop {
                if stop.is_some_and(|s| *s.borrow()) {
                    return Ok(swept);
                }
                let began = std::time::Instant::now();
                let mut tx = self.db.write().await?;
                let gone = retention::delete_batch(&mut tx, &d, cutoff, size, now).await?;
                tx.commit().await?;
                if gone.runs == 0 {
                    break;
                }
                swept.batches += 1;
                swept.runs += gone.runs;
                swept.with_children += gone.with_children;
                let (next, pause) = next_batch(config, size, began.elapsed());
                size = next;
                tokio::time::sleep(pause).await;
            }
        }
        // sent and given-up notifications are kept a month for admins to see
        loop {
            let mut tx = self.db.write().await?;
            let gone =
                app::store::outbox::prune(&mut tx, now - NOTIFICATIONS_KEPT_MS, 1000).await?;
            tx.commit().await?;
            swept.notifications += gone;
            if gone < 1000 {
                break;
            }
            tokio::time::sleep(config.pause).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_shrink_when_slow_grow_when_quick_and_pause_four_times_as_long() {
        let c = RetentionConfig::default();
        let ms = Duration::from_millis;
        assert_eq!(next_batch(&c, 64, ms(20)), (32, ms(80)));
        assert_eq!(
            next_batch(&c, 1, ms(50)),
            (1, ms(200)),
            "never below one run"
        );
        assert_eq!(next_batch(&c, 64, ms(1)), (128, ms(10)), "the least pause");
        assert_eq!(
            next_batch(&c, 128, ms(1)),
            (200, ms(10)),
            "never above the batch"
        );
        assert_eq!(next_batch(&c, 50, ms(3)), (50, ms(12)));
    }
}
