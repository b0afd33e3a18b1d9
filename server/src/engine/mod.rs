//! The durable executor. Workers claim due steps from the steps table,
//! run them, and complete them in one transaction that also decides what
//! comes next. Recovery returns expired leases to the queue; a timer wakes
//! workers for delayed and retried steps. Nothing is kept only in memory:
//! kill the process at any point and a restart carries on.

pub mod runners;

use app::domain::graph::{ErrorClass, WorkflowDef};
use app::domain::machine::{AfterFailure, after_failure, context, cumulative};
use app::domain::run::RunStatus;
use app::domain::run::StepStatus;
use app::ops::{Wakeup, progress};
use app::store::runs::{self, Claimed, NewAttempt, RunEnd, StepUpdate};
use app::store::{Db, StoreError, workflows};
use runners::{Attempt, Outcome};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::Instrument;

/// Pure steps run inside one completion transaction at most.
const MAX_INLINE_STEPS: usize = 256;

pub type Result<T> = std::result::Result<T, StoreError>;

/// Where the engine reads the time: the wall clock, or a clock tests move.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        app::ops::now_ms()
    }
}

/// A clock that only moves when told to.
#[derive(Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: i64) -> Self {
        ManualClock(AtomicI64::new(start))
    }
    pub fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

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
    http: reqwest::Client,
    wakeup: Wakeup,
    /// Notified (all waiters) after a commit that ended a run.
    run_ended: Arc<tokio::sync::Notify>,
    runs_ended: std::sync::atomic::AtomicBool,
    defs: Mutex<HashMap<(String, i64), Arc<WorkflowDef>>>,
    /// Source of jitter for retry delays, in [0, 1).
    jitter: Box<dyn Fn() -> f64 + Send + Sync>,
}

impl Engine {
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
            http: reqwest::Client::builder()
                .user_agent(concat!("stepwise/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(300))
                .build()
                .expect("the HTTP client builds with static settings"),
            wakeup: Wakeup::default(),
            run_ended: Arc::default(),
            runs_ended: Default::default(),
            defs: Mutex::new(HashMap::new()),
            jitter: Box::new(fastrand::f64),
        }
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

    /// Resolves after the engine next ends a run (any run).
    pub fn run_ended(&self) -> tokio::sync::futures::Notified<'_> {
        self.run_ended.notified()
    }

    pub fn wakeup(&self) -> Wakeup {
        self.wakeup.clone()
    }

    async fn definition(&self, workflow_id: &str, version: i64) -> Result<Arc<WorkflowDef>> {
        let key = (workflow_id.to_string(), version);
        if let Some(d) = self.defs.lock().expect("defs lock").get(&key) {
            return Ok(d.clone());
        }
        let mut conn = self.db.pool.acquire().await?;
        let def = Arc::new(
            workflows::get_any(&mut conn, workflow_id, version)
                .await?
                .definition,
        );
        self.defs
            .lock()
            .expect("defs lock")
            .insert(key, def.clone());
        Ok(def)
    }

    /// Claims and runs one due step. Returns whether there was one.
    pub async fn tick(&self) -> Result<bool> {
        let now = self.clock.now();
        let claimed = {
            let mut conn = self.db.pool.acquire().await?;
            runs::claim(&mut conn, &self.worker, now, now + self.lease_ms).await?
        };
        let Some(c) = claimed else { return Ok(false) };
        // The span follows the step across awaits (an entered guard would not).
        let span = tracing::info_span!("step", run_id = %c.run_id, node_id = %c.node_id, attempt = c.attempt);
        self.process(c, now).instrument(span).await?;
        Ok(true)
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

    async fn process(&self, c: Claimed, started: i64) -> Result<()> {
        let (run, steps) = {
            let mut conn = self.db.pool.acquire().await?;
            let run = runs::get_run(&mut conn, &c.run_id).await?;
            let steps = runs::get_steps(&mut conn, &c.run_id).await?;
            (run, steps)
        };
        let def = self.definition(&run.workflow_id, run.version).await?;
        let compensation = runs::compensated_node(&c.node_id);
        let Some(node) = def.node(compensation.unwrap_or(&c.node_id)) else {
            return self
                .finish(
                    &c,
                    &def,
                    started,
                    None,
                    Outcome::fail(
                        ErrorClass::Business,
                        "the node is not in the workflow version",
                    ),
                )
                .await;
        };
        let ctx = match &c.input_override {
            Some(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            None => run_context(&run.input, &steps),
        };
        let attempt = Attempt {
            run_id: &c.run_id,
            step_id: &c.node_id,
            node,
            context: &ctx,
            attempt: c.attempt,
            now: started,
            woken: c.parked,
            http: &self.http,
        };
        let outcome = match node.timeout_ms {
            Some(ms) => {
                match tokio::time::timeout(
                    Duration::from_millis(ms),
                    runners::run(&attempt, compensation.is_some()),
                )
                .await
                {
                    Ok(o) => o,
                    Err(_) => Outcome::fail(
                        ErrorClass::Transient,
                        format!("timed out: the step took longer than its timeout of {ms} ms"),
                    ),
                }
            }
            None => runners::run(&attempt, compensation.is_some()).await,
        };
        self.finish(&c, &def, started, Some(&ctx), outcome).await
    }

    /// Stores the attempt and everything it decides, in one transaction.
    /// Pure steps that become ready in the same run (no side effects: Start,
    /// Transform, Branch, Join, End, Fail) are run and stored in that same
    /// transaction: one commit carries a run through its pure stretch, and a
    /// crash before it simply repeats pure work.
    async fn finish(
        &self,
        c: &Claimed,
        def: &WorkflowDef,
        started: i64,
        input: Option<&Value>,
        outcome: Outcome,
    ) -> Result<()> {
        let now = self.clock.now().max(started);
        let mut tx = self.db.write().await?;
        if !runs::holds_lease(&mut tx, c, &self.worker).await? {
            // Cancelled, or the lease ran out and another attempt took over:
            // this result must not count.
            tracing::warn!("result discarded: the step is no longer leased to this worker");
            return Ok(());
        }
        self.record(&mut tx, c, def, started, now, input, &outcome)
            .await?;
        if runs::compensated_node(&c.node_id).is_none() {
            self.run_pure_successors(&mut tx, &c.run_id, def, now)
                .await?;
        }
        tx.commit().await?;
        self.wake();
        if self.runs_ended.swap(false, Ordering::SeqCst) {
            self.run_ended.notify_waiters();
        }
        Ok(())
    }

    /// Runs, inside the caller's transaction, the pure steps of `run_id`
    /// that are due, until none is left.
    async fn run_pure_successors(
        &self,
        tx: &mut sqlx::SqliteConnection,
        run_id: &str,
        def: &WorkflowDef,
        now: i64,
    ) -> Result<()> {
        let mut ctx: Option<Value> = None;
        // Bounded, so one long run cannot hold the write lock for long; the
        // rest stays ready in the queue.
        for _ in 0..MAX_INLINE_STEPS {
            let due = runs::due_in_run(tx, run_id, now).await?;
            let Some(node) = due
                .iter()
                .filter_map(|id| def.node(id))
                .find(|n| runners::is_pure(&n.kind))
            else {
                return Ok(());
            };
            let Some(c) =
                runs::claim_step(tx, run_id, &node.id, &self.worker, now, now + self.lease_ms)
                    .await?
            else {
                return Ok(());
            };
            if ctx.is_none() {
                let run = runs::get_run(tx, run_id).await?;
                let steps = runs::get_steps(tx, run_id).await?;
                ctx = Some(run_context(&run.input, &steps));
            }
            let context = ctx.as_mut().expect("context loaded above");
            let attempt = Attempt {
                run_id,
                step_id: &c.node_id,
                node,
                context,
                attempt: c.attempt,
                now,
                woken: c.parked,
                http: &self.http,
            };
            let outcome = runners::run(&attempt, false).await;
            self.record(tx, &c, def, now, now, Some(context), &outcome)
                .await?;
            if let Outcome::Done {
                output, confidence, ..
            } = &outcome
            {
                context["steps"][&c.node_id] = json!({"output": output, "confidence": confidence});
            }
        }
        Ok(())
    }

    /// Writes one attempt's result to its step and the step log, and moves
    /// the run on when the step reached a final state.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        tx: &mut sqlx::SqliteConnection,
        c: &Claimed,
        def: &WorkflowDef,
        started: i64,
        now: i64,
        input: Option<&Value>,
        outcome: &Outcome,
    ) -> Result<()> {
        let mut attempt = NewAttempt {
            claimed: c,
            worker: &self.worker,
            started_at: started,
            finished_at: now,
            input,
            output: None,
            outcome: "succeeded",
            error_class: None,
            error: None,
            confidence: None,
        };
        let mut finished_final = false;
        match outcome {
            Outcome::Done {
                output,
                confidence,
                port,
            } => {
                attempt.output = Some(output);
                attempt.confidence = *confidence;
                runs::update_step(
                    &mut *tx,
                    &c.run_id,
                    &c.node_id,
                    &StepUpdate {
                        port: Some(port),
                        output: Some(output),
                        confidence: *confidence,
                        cum_confidence: Some(cumulative(c.cum_in, *confidence)),
                        ..StepUpdate::new(StepStatus::Succeeded, now)
                    },
                )
                .await?;
                finished_final = true;
            }
            Outcome::Park { until } => {
                attempt.outcome = "parked";
                runs::update_step(
                    &mut *tx,
                    &c.run_id,
                    &c.node_id,
                    &StepUpdate {
                        not_before: *until,
                        parked: true,
                        ..StepUpdate::new(StepStatus::Waiting, now)
                    },
                )
                .await?;
            }
            Outcome::Failed { class, message } => {
                let class_name = class_str(*class);
                attempt.outcome = "failed";
                attempt.error_class = Some(class_name);
                attempt.error = Some(message);
                let node_id = runs::compensated_node(&c.node_id).unwrap_or(&c.node_id);
                let policy = def
                    .node(node_id)
                    .map(|n| n.retry.for_class(*class).clone())
                    .unwrap_or_else(|| app::domain::graph::RetryPolicy::attempts(1));
                let mut update = StepUpdate {
                    error_class: Some(class_name),
                    error: Some(message),
                    ..StepUpdate::new(StepStatus::Failed, now)
                };
                match after_failure(&policy, c.attempt as u32, (self.jitter)()) {
                    AfterFailure::Retry { delay_ms } => {
                        update.status = StepStatus::Ready;
                        update.not_before = now + delay_ms as i64;
                        update.finished_at = None;
                        tracing::info!(
                            class = class_name,
                            delay_ms,
                            "attempt failed; retrying: {message}"
                        );
                    }
                    AfterFailure::GiveUp => {
                        if progress::has_error_edge(def, &c.node_id) {
                            update.port = Some(app::domain::PORT_ERROR);
                        }
                        tracing::warn!(class = class_name, "step failed: {message}");
                        finished_final = true;
                    }
                }
                runs::update_step(&mut *tx, &c.run_id, &c.node_id, &update).await?;
            }
        }
        runs::insert_attempt(&mut *tx, &attempt).await?;
        if finished_final {
            if runs::compensated_node(&c.node_id).is_some() {
                // Whatever its result, the next compensation goes on.
                runs::next_compensation(&mut *tx, &c.run_id, now).await?;
            } else {
                let step = [c.node_id.as_str()];
                if progress::advance(&mut *tx, def, &c.run_id, &step, "engine", now)
                    .await?
                    .is_some()
                {
                    self.runs_ended.store(true, Ordering::SeqCst);
                }
            }
        }
        Ok(())
    }

    /// Returns expired leases to the queue and fails runs past their deadline.
    pub async fn recover(&self) -> Result<usize> {
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        let lost = runs::recover_expired(&mut tx, now).await?;
        let overdue = runs::overdue_runs(&mut tx, now).await?;
        for run_id in &overdue {
            let run = runs::get_run(&mut tx, run_id).await?;
            let limit = run.deadline_at.unwrap_or(now) - run.created_at;
            let reason = format!("the run took longer than its timeout of {limit} ms");
            let end = RunEnd::failed(RunStatus::Failed, reason);
            if progress::end_run(&mut tx, run_id, &end, "engine", now).await? {
                let def = self.definition(&run.workflow_id, run.version).await?;
                progress::compensate(&mut tx, &def, run_id, now).await?;
            }
        }
        tx.commit().await?;
        if !lost.is_empty() {
            tracing::warn!(steps = lost.len(), "recovered steps whose worker stopped");
            self.wake();
        }
        Ok(lost.len() + overdue.len())
    }

    /// When the next delayed or retried step is due.
    pub async fn next_due(&self) -> Result<Option<i64>> {
        let mut conn = self.db.pool.acquire().await?;
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
            let engine = self.clone();
            let shutdown = shutdown.clone();
            handles.push(tokio::spawn(
                async move { engine.worker_loop(shutdown).await },
            ));
        }
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

/// `{input, steps}` from the stored steps that succeeded.
fn run_context(input: &Value, steps: &[app::domain::records::StepRecord]) -> Value {
    context(
        input,
        steps
            .iter()
            .filter(|s| s.status == StepStatus::Succeeded)
            .filter_map(|s| {
                s.output
                    .as_ref()
                    .map(|o| (s.node_id.as_str(), o, s.confidence))
            }),
    )
}

fn class_str(c: ErrorClass) -> &'static str {
    match c {
        ErrorClass::Transient => "transient",
        ErrorClass::Business => "business",
        ErrorClass::Format => "format",
    }
}
