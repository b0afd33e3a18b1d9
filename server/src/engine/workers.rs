//! The work loop: workers claim due steps and run them, polling only as a
//! fallback to being woken; the recovery loop beside them.

use super::{Engine, EngineConfig, Result};
use app::store::runs;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Counts a worker loop as live from its start until it ends, however it
/// ends (a panic unwinds through the drop).
struct LiveWorker(Arc<std::sync::atomic::AtomicUsize>);

impl LiveWorker {
    fn new(count: Arc<std::sync::atomic::AtomicUsize>) -> LiveWorker {
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        LiveWorker(count)
    }
}

impl Drop for LiveWorker {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What a worker's look for work found.
enum Look {
    /// A step, which it ran. With when the next step is due when nothing
    /// else was due as it claimed this one (the worker then waits; work
    /// that appeared meanwhile, its own completion's included, woke it),
    /// or None: look again at once.
    Ran(Option<Option<i64>>),
    /// Nothing due; when the next step is due, if the look learnt it.
    Nothing(Option<Option<i64>>),
}

impl Engine {
    /// Claims and runs one due step. Returns whether there was one.
    pub async fn tick(&self) -> Result<bool> {
        Ok(matches!(self.look().await?, Look::Ran(_)))
    }

    /// Claims and runs one due step, and tells what it found.
    async fn look(&self) -> Result<Look> {
        let now = self.clock.now();
        let (claimed, next_due) = self.claim_due(now).await?;
        let Some(c) = claimed else {
            return Ok(Look::Nothing(next_due));
        };
        // more is due (or may be): another worker looks while this one
        // runs it
        let more = match next_due {
            Some(Some(due)) => due <= now,
            Some(None) => false,
            None => true,
        };
        if more {
            self.wakeup.pass_on();
        }
        crate::metrics::get()
            .queue_wait_seconds
            .observe(crate::metrics::secs(now - c.due_at));
        self.run_claimed(c, now).await?;
        // nothing else was due: a look now would find only what appeared
        // since, and whatever made it appear woke a worker
        Ok(Look::Ran(next_due.filter(|_| !more)))
    }

    /// Claims one due step for this engine's worker, without running it
    /// (`tick` is this and `run_claimed`; the simulation test holds claims
    /// in flight across other operations, as a slow or dying worker would).
    pub async fn claim_next(&self, now: i64) -> Result<Option<runs::Claimed>> {
        Ok(self.claim_due(now).await?.0)
    }

    /// [`Engine::claim_next`], and when the next step is due if that was
    /// learnt with it (SQLite: `Some(None)` when nothing is).
    async fn claim_due(&self, now: i64) -> Result<(Option<runs::Claimed>, Option<Option<i64>>)> {
        // On SQLite the claim's one statement is atomic with respect to
        // every write transaction; on PostgreSQL it takes the write lock
        // shared and its run's lock, so it never interleaves with another
        // transaction of that run nor with any that holds the whole
        // database (see store::db).
        if self.db.backend() == app::store::conn::Backend::Sqlite {
            // a write: in turn with this process's other writers
            let mut conn = self.db.write_each().await?;
            let (claimed, next_due) = runs::claim_and_next_due(
                &mut conn,
                &self.worker,
                now,
                app::domain::limits::after_signed(now, self.lease_ms),
            )
            .await?;
            return Ok((claimed, Some(next_due)));
        }
        let mut tx = self.db.write_run(None).await?;
        let claimed = runs::claim(
            &mut tx,
            &self.worker,
            now,
            app::domain::limits::after_signed(now, self.lease_ms),
        )
        .await?;
        tx.commit().await?;
        Ok((claimed, None))
    }

    /// Runs a step this engine claimed at `started`, renewing its lease
    /// meanwhile; a panic fails the attempt and the worker goes on.
    pub async fn run_claimed(&self, c: runs::Claimed, started: i64) -> Result<()> {
        // The span follows the step across awaits (an entered guard would not).
        let span = tracing::info_span!("step", run_id = %c.run_id, node_id = %c.node_id, attempt = c.attempt);
        let attempt = std::panic::AssertUnwindSafe(self.process(c.clone(), started));
        let attempt = futures_util::FutureExt::catch_unwind(attempt).instrument(span.clone());
        match self.with_heartbeat(&c, started, attempt).await {
            Ok(r) => r,
            Err(panic) => self.panicked(&c, started, panic).instrument(span).await,
        }
    }

    /// This engine's worker id (lease owner).
    pub fn worker_id(&self) -> &str {
        &self.worker
    }

    /// Runs due work until none is left at the current clock time.
    pub async fn run_until_idle(&self) -> Result<usize> {
        let mut n = 0;
        loop {
            self.recover().await?;
            if !self.tick().await? {
                return Ok(n);
            }
            n += 1;
        }
    }

    /// When the next delayed or retried step is due.
    pub async fn next_due(&self) -> Result<Option<i64>> {
        let mut conn = self.db.acquire().await?;
        runs::next_due(&mut conn).await
    }

    /// Starts the workers and the recovery loop; they stop when `shutdown`
    /// is notified.
    pub fn spawn(
        self: &Arc<Self>,
        config: &EngineConfig,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut handles = Vec::new();
        for _ in 0..config.workers.max(1) {
            self.workers_started
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let engine = self.clone();
            let shutdown = shutdown.clone();
            handles.push(tokio::spawn(
                async move { engine.worker_loop(shutdown).await },
            ));
        }
        let engine = self.clone();
        let shutdown_rx = shutdown.clone();
        handles.push(tokio::spawn(async move {
            engine.scheduler_loop(shutdown_rx).await
        }));
        if self.db.backend() == app::store::conn::Backend::Sqlite {
            // the WAL copied into the database file beside the writers
            // (see store::checkpoint), while anything is written
            let engine = self.clone();
            let mut seen = 0;
            handles.push(periodic(CHECKPOINT_EVERY, shutdown.clone(), move |_| {
                let (engine, writes) = (engine.clone(), app::store::db::gate_turns().writes);
                let due = std::mem::replace(&mut seen, writes) != writes || writes == 0;
                async move {
                    if !due {
                        return;
                    }
                    if let Err(e) = engine.db.checkpoint().await {
                        tracing::warn!(error = %e, "checkpointing the WAL failed; tried again later");
                    }
                }
            }));
        }
        let engine = self.clone();
        handles.push(periodic(config.recovery_every, shutdown, move |_| {
            let engine = engine.clone();
            async move {
                if let Err(e) = engine.recover().await {
                    tracing::error!(error = %e, "recovery failed");
                }
            }
        }));
        handles
    }

    async fn worker_loop(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let _live = LiveWorker::new(self.workers_live.clone());
        loop {
            if *shutdown.borrow() {
                return;
            }
            let notified = self.wakeup.notified();
            let next_due = match self.look().await {
                Ok(Look::Ran(None)) => continue,
                Ok(Look::Ran(Some(known)) | Look::Nothing(Some(known))) => Ok(known),
                Ok(Look::Nothing(None)) => self.next_due().await,
                Err(e) => {
                    tracing::error!(error = %e, "worker failed to take a step");
                    self.next_due().await
                }
            };
            // Sleep until woken, until the next due step, or at most a
            // second (polling only as a fallback).
            let wait = match next_due {
                Ok(Some(t)) => (t - self.clock.now()).clamp(0, 1000) as u64,
                _ => 1000,
            };
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = notified => {}
                _ = tokio::time::sleep(Duration::from_millis(wait.max(5))) => {}
            }
        }
    }
}

/// Runs `pass` now and then every `every` until `shutdown` (each pass is
/// given the shutdown signal, to stop early between pieces of work).
/// How often the server copies SQLite's WAL into the database file while
/// anything is written (see `store::checkpoint`).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

pub(super) fn periodic<F, Fut>(
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut pass: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut(tokio::sync::watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                return;
            }
            pass(shutdown.clone()).await;
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}
