//! The durable executor. Workers claim due steps from the steps table,
//! run them, and complete them in one transaction that also decides what
//! comes next. Recovery returns expired leases to the queue; a timer wakes
//! workers for delayed and retried steps. Nothing is kept only in memory:
//! kill the process at any point and a restart carries on.

mod alerts;
mod approval;
mod attempt;
mod chaos;
mod clock;
mod complete;
mod foreach;
mod fresh;
mod gate;
mod golden;
mod group;
mod inline;
mod llm;
pub mod notify;
mod observe;
mod outbox;
mod record;
mod recovery;
pub mod retention;
pub mod runners;
mod schedules;
mod starts;
mod stretch;
mod subworkflow;
mod tester;
mod told;
mod views;
mod waits;
mod workers;

pub use clock::{Clock, ManualClock, SystemClock};
pub use starts::StartedRun;
pub use subworkflow::MAX_DEPTH as SUB_WORKFLOW_MAX_DEPTH;
pub use views::Viewed;
pub use waits::ended_topic;

use crate::outbound::Outbound;
use crate::sandbox::{Sandbox, SandboxConfig};
use app::domain::graph::WorkflowDef;
use app::domain::machine::context;
use app::domain::run::StepStatus;
use app::ops::Wakeup;
use app::store::{Db, StoreError, workflows};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

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
    /// The graphs runs execute, by version and For each body: bounded, so
    /// a server that meets many versions keeps the ones in use.
    defs: app::store::remembered::Remembered<DefKey, Arc<WorkflowDef>>,
    /// Source of jitter for retry delays, in [0, 1).
    jitter: Box<dyn Fn() -> f64 + Send + Sync>,
    /// Opens the secrets Http steps may use; without it they have none.
    sealer: Option<app::security::Sealer>,
    /// Told when approval items appear or change.
    changes: app::ops::Changes,
    /// Fault injection for tests: running this node panics.
    panic_on: Option<String>,
    /// Every step on its own claim: no pure stretch evaluated ahead (the
    /// path the bench's equivalence check compares against).
    simple: bool,
    /// Workers started by `spawn`, and those whose loop is still running.
    workers_started: std::sync::atomic::AtomicUsize,
    workers_live: Arc<std::sync::atomic::AtomicUsize>,
    /// REST starts waiting to share a transaction (see `group`).
    starts: group::Starts,
    /// Runs REST starts ended, kept for the `GET` that follows.
    views: views::EndedViews,
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
            defs: app::store::remembered::Remembered::new(
                app::store::workflows::REMEMBERED_VERSIONS,
            ),
            jitter: Box::new(fastrand::f64),
            sealer: None,
            changes: Default::default(),
            panic_on: None,
            simple: false,
            workers_started: Default::default(),
            workers_live: Default::default(),
            starts: Default::default(),
            views: Default::default(),
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

    /// With `simple`, every step runs on its own claim (see `simple`).
    pub fn with_simple_path(mut self, simple: bool) -> Self {
        self.simple = simple;
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

    /// Keeps a run its REST start ended for the `GET` that follows (see
    /// `views`).
    pub fn keep_view(&self, viewed: &Viewed) {
        self.views.keep(viewed);
    }

    /// `GET /runs/{id}`'s answer as kept by [`Engine::keep_view`], while
    /// nothing written since may have changed it.
    pub fn kept_view(&self, id: &str) -> Option<axum::body::Bytes> {
        self.views.get(id, self.db.runs_touched())
    }

    /// Whether runs REST starts ended are kept at all (on SQLite; see
    /// `views`): a start that does not answer with its run reads it only
    /// then.
    pub fn keeps_views(&self) -> bool {
        self.db.runs_touched().is_some()
    }

    /// How many answers are kept (for tests).
    pub fn kept_views(&self) -> usize {
        self.views.count()
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

    /// How many graphs this engine remembers (at most
    /// `workflows::REMEMBERED_VERSIONS`).
    pub fn definitions_remembered(&self) -> usize {
        self.defs.len()
    }

    /// The graph `run` executes: its version's own steps, or for an item
    /// run the body of its For each (cached: versions never change).
    async fn definition(&self, run: &app::domain::records::RunRecord) -> Result<Arc<WorkflowDef>> {
        let body = run.body().map(str::to_string);
        let key = (run.workflow_id.clone(), run.version, body);
        if let Some(d) = self.defs.get(&key) {
            return Ok(d);
        }
        let mut conn = self.db.acquire().await?;
        let whole = workflows::definition(&mut conn, &run.workflow_id, run.version).await?;
        let def = Arc::new(whole.scope(key.2.as_deref()));
        self.defs.put(key, def.clone());
        Ok(def)
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
