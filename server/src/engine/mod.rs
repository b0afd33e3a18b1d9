//! The durable executor. Workers claim due steps from the steps table,
//! run them, and complete them in one transaction that also decides what
//! comes next. Recovery returns expired leases to the queue; a timer wakes
//! workers for delayed and retried steps. Nothing is kept only in memory:
//! kill the process at any point and a restart carries on.

mod approval;
mod attempt;
mod clock;
mod complete;
mod foreach;
mod gate;
mod llm;
mod recovery;
pub mod runners;
mod schedules;
mod stretch;
mod subworkflow;
mod tester;
mod waits;

pub use clock::{Clock, ManualClock, SystemClock};
pub use subworkflow::MAX_DEPTH as SUB_WORKFLOW_MAX_DEPTH;

use crate::outbound::Outbound;
use crate::sandbox::{Sandbox, SandboxConfig};
use app::domain::graph::WorkflowDef;
use app::domain::machine::context;
use app::domain::run::StepStatus;
use app::ops::Wakeup;
use app::store::runs;
use app::store::{Db, StoreError, workflows};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::Instrument;

/// The longest a step may run unless the server is told otherwise.
pub const DEFAULT_STEP_TIMEOUT_MS: i64 = 300_000;

/// Pure steps run inside one completion transaction at most.
const MAX_INLINE_STEPS: usize = 256;

pub type Result<T> = std::result::Result<T, StoreError>;

/// A version's graph for one scope: (workflow, version, For each body).
type DefKey = (String, i64, Option<String>);

pub struct EngineConfig {
    /// How long a claim is valid without the worker finishing.
    pub lease_ms: i64,
    /// How often to look for expired leases and overdue runs.
    pub recovery_every: Duration,
    pub workers: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            lease_ms: 60_000,
            recovery_every: Duration::from_secs(5),
            workers: 4,
        }
    }
}

pub struct Engine {
    db: Db,
    clock: Arc<dyn Clock>,
    worker: String,
    lease_ms: i64,
    /// The longest any step may run (a node's own timeout is capped by it).
    step_timeout_ms: i64,
    /// Where workflow logic is evaluated.
    sandbox: Arc<Sandbox>,
    /// The guarded client and policy for outbound calls.
    outbound: Arc<Outbound>,
    wakeup: Wakeup,
    /// Notified (all waiters) after a commit that ended a run.
    run_ended: Arc<tokio::sync::Notify>,
    /// Wakes the scheduler when a schedule was added or changed.
    schedules_changed: tokio::sync::Notify,
    defs: Mutex<HashMap<DefKey, Arc<WorkflowDef>>>,
    /// Source of jitter for retry delays, in [0, 1).
    jitter: Box<dyn Fn() -> f64 + Send + Sync>,
    /// Opens the secrets Http steps may use; without it they have none.
    sealer: Option<app::security::Sealer>,
    /// Told when approval items appear or change.
    changes: app::ops::Changes,
    /// Fault injection for tests: running this node panics.
    panic_on: Option<String>,
    /// Workers started by `spawn`, and those whose loop is still running.
    workers_started: std::sync::atomic::AtomicUsize,
    workers_live: Arc<std::sync::atomic::AtomicUsize>,
}

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

impl Engine {
    /// Lets Http steps use the instance's secrets (`{{ secrets.NAME }}`).
    pub fn with_sealer(mut self, sealer: app::security::Sealer) -> Engine {
        self.sealer = Some(sealer);
        self
    }

    /// Evaluates workflow logic in `sandbox` (by default: children of this
    /// process's own binary, with the default bounds).
    pub fn with_sandbox(mut self, sandbox: Arc<Sandbox>) -> Engine {
        self.sandbox = sandbox;
        self
    }

    /// Calls out under `outbound`'s policy (by default: nothing inside).
    pub fn with_outbound(mut self, outbound: Outbound) -> Engine {
        self.outbound = Arc::new(outbound);
        self
    }

    pub fn new(db: Db, clock: Arc<dyn Clock>, lease_ms: i64) -> Engine {
        let worker = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::now_v7().simple().to_string()[24..]
        );
        Engine {
            db,
            clock,
            worker,
            lease_ms,
            step_timeout_ms: DEFAULT_STEP_TIMEOUT_MS,
            sandbox: Arc::new(Sandbox::new(SandboxConfig::default())),
            outbound: Arc::new(Outbound::default()),
            wakeup: Wakeup::default(),
            run_ended: Arc::default(),
            schedules_changed: Default::default(),
            defs: Mutex::new(HashMap::new()),
            jitter: Box::new(fastrand::f64),
            sealer: None,
            changes: Default::default(),
            panic_on: None,
            workers_started: Default::default(),
            workers_live: Default::default(),
        }
    }

    /// Workers started, and how many of them are running: `/readyz`
    /// reports the server not ready when one has stopped.
    pub fn workers(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::SeqCst;
        (
            self.workers_started.load(SeqCst),
            self.workers_live.load(SeqCst),
        )
    }

    /// Stops any step after `ms` (a node's own timeout may be shorter).
    pub fn with_step_timeout(mut self, ms: i64) -> Self {
        self.step_timeout_ms = ms.max(1);
        self
    }

    /// For tests: running `node_id` panics, as a bug in a runner would.
    pub fn with_panic_on(mut self, node_id: &str) -> Self {
        self.panic_on = Some(node_id.to_string());
        self
    }

    /// Deterministic retry delays (tests).
    pub fn without_jitter(mut self) -> Self {
        self.jitter = Box::new(|| 0.0);
        self
    }

    /// Something changed (a run started, a step was retried): look for work.
    pub fn wake(&self) {
        self.wakeup.wake();
    }

    pub fn changes(&self) -> app::ops::Changes {
        self.changes.clone()
    }

    /// Where workflow logic is evaluated (webhook mappings use it too).
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub fn wakeup(&self) -> Wakeup {
        self.wakeup.clone()
    }

    /// The graph `run` executes: its version's own steps, or for an item
    /// run the body of its For each (cached: versions never change).
    async fn definition(&self, run: &app::domain::records::RunRecord) -> Result<Arc<WorkflowDef>> {
        let body = run.body().map(str::to_string);
        let key = (run.workflow_id.clone(), run.version, body);
        if let Some(d) = self.defs.lock().expect("defs lock").get(&key) {
            return Ok(d.clone());
        }
        let mut conn = self.db.acquire().await?;
        let whole = workflows::get_any(&mut conn, &run.workflow_id, run.version)
            .await?
            .definition;
        let def = Arc::new(whole.scope(key.2.as_deref()));
        self.defs
            .lock()
            .expect("defs lock")
            .insert(key, def.clone());
        Ok(def)
    }

    /// Claims and runs one due step. Returns whether there was one.
    pub async fn tick(&self) -> Result<bool> {
        let now = self.clock.now();
        let Some(c) = self.claim_next(now).await? else {
            return Ok(false);
        };
        self.run_claimed(c, now).await?;
        Ok(true)
    }

    /// Claims one due step for this engine's worker, without running it
    /// (`tick` is this and `run_claimed`; the simulation test holds claims
    /// in flight across other operations, as a slow or dying worker would).
    pub async fn claim_next(&self, now: i64) -> Result<Option<runs::Claimed>> {
        // On SQLite the claim's one statement is atomic with respect to
        // every write transaction; on PostgreSQL it takes the write lock
        // like any other state change, so it never interleaves with one
        // (see store::db).
        if self.db.backend() == app::store::conn::Backend::Sqlite {
            let mut conn = self.db.acquire().await?;
            return runs::claim(
                &mut conn,
                &self.worker,
                now,
                app::domain::limits::after_signed(now, self.lease_ms),
            )
            .await;
        }
        let mut tx = self.db.write().await?;
        let claimed = runs::claim(
            &mut tx,
            &self.worker,
            now,
            app::domain::limits::after_signed(now, self.lease_ms),
        )
        .await?;
        tx.commit().await?;
        Ok(claimed)
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
        let engine = self.clone();
        let every = config.recovery_every;
        let mut shutdown_rx = shutdown.clone();
        handles.push(tokio::spawn(async move {
            loop {
                if *shutdown_rx.borrow() {
                    return;
                }
                if let Err(e) = engine.recover().await {
                    tracing::error!(error = %e, "recovery failed");
                }
                tokio::select! {
                    _ = shutdown_rx.changed() => return,
                    _ = tokio::time::sleep(every) => {}
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
            match self.tick().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "worker failed to take a step"),
            }
            // Sleep until woken, until the next due step, or at most a
            // second (polling only as a fallback).
            let wait = match self.next_due().await {
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

/// `{input, steps}` from the stored steps that succeeded; an item run's
/// context also has `item` (its input) and `index`.
fn run_context(
    run: &app::domain::records::RunRecord,
    steps: &[app::domain::records::StepRecord],
) -> Value {
    let mut ctx = context(
        &run.input,
        steps
            .iter()
            .filter(|s| s.status == StepStatus::Succeeded)
            .filter_map(|s| {
                s.output
                    .as_ref()
                    .map(|o| (s.node_id.as_str(), o, s.confidence))
            }),
    );
    if let Some(item) = &run.item {
        ctx["item"] = run.input.clone();
        ctx["index"] = item.index.into();
    }
    // a loop's steps: what each produced in the passes before this one
    for s in steps.iter().filter(|s| !s.iterations.is_empty()) {
        let entry = &mut ctx["steps"][&s.node_id];
        if !entry.is_object() {
            *entry = serde_json::json!({});
        }
        entry["iterations"] = Value::Array(s.iterations.clone());
    }
    ctx
}
