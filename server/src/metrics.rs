//! Prometheus metrics at `GET /metrics` (issue 18), with the
//! `prometheus-client` crate: what this process did (runs, steps, gates,
//! model calls, HTTP requests) as counters and histograms, and what the
//! database holds now (ready steps, the oldest one's wait, items waiting
//! for people) as gauges read when scraped. Each process counts its own;
//! Prometheus scrapes each and sums. Labels are bounded: workflow ids,
//! node kinds, statuses and route templates, never run ids or raw paths.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;

/// Who may read `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Access {
    /// Not served (404).
    Off,
    /// Any signed-in person or API token (a viewer's is enough).
    #[default]
    Token,
    /// Anyone who can reach the port (a private network's scraper).
    Public,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Workflow {
    pub workflow: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunEnd {
    pub workflow: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepEnd {
    pub kind: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GateResult {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Direction {
    pub direction: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Request {
    pub method: String,
    pub route: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    pub method: String,
    pub route: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds, from a millisecond up to about nine minutes.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

fn confidences() -> Histogram {
    Histogram::new((1..=10).map(|i| f64::from(i) / 10.0))
}

pub struct Metrics {
    registry: Registry,
    pub runs_started: Family<Workflow, Counter>,
    pub runs_finished: Family<RunEnd, Counter>,
    pub steps: Family<StepEnd, Counter>,
    pub step_seconds: Histograms<Kind>,
    pub queue_wait_seconds: Histogram,
    pub gate_decisions: Family<GateResult, Counter>,
    pub confidence: Histogram,
    pub llm_tokens: Family<Direction, Counter>,
    pub llm_cost: Counter<f64, AtomicU64>,
    pub ready_steps: Gauge,
    pub oldest_ready_seconds: Gauge<f64, AtomicU64>,
    pub waiting_items: Family<Reason, Gauge>,
    pub http_requests: Family<Request, Counter>,
    pub http_seconds: Histograms<Route>,
    pub db_writes: Counter,
    pub db_write_waited: Counter<f64, AtomicU64>,
    pub db_write_held: Counter<f64, AtomicU64>,
}

impl Metrics {
    fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::with_prefix("stepwise"),
            runs_started: Family::default(),
            runs_finished: Family::default(),
            steps: Family::default(),
            step_seconds: Family::new_with_constructor(seconds),
            queue_wait_seconds: seconds(),
            gate_decisions: Family::default(),
            confidence: confidences(),
            llm_tokens: Family::default(),
            llm_cost: Counter::default(),
            ready_steps: Gauge::default(),
            oldest_ready_seconds: Gauge::default(),
            waiting_items: Family::default(),
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(seconds),
            db_writes: Counter::default(),
            db_write_waited: Counter::default(),
            db_write_held: Counter::default(),
        };
        let mut r = m.registry;
        r.register(
            "runs_started",
            "Runs whose Start step this process ran, by workflow",
            m.runs_started.clone(),
        );
        r.register(
            "runs_finished",
            "Runs that ended in this process, by workflow and status",
            m.runs_finished.clone(),
        );
        r.register(
            "steps",
            "Step attempts recorded, by node kind and outcome (succeeded, failed, retrying, parked)",
            m.steps.clone(),
        );
        r.register(
            "step_duration_seconds",
            "Time from an attempt's claim to its result, by node kind",
            m.step_seconds.clone(),
        );
        r.register(
            "step_queue_wait_seconds",
            "Time a step waited in the queue between being due and being claimed",
            m.queue_wait_seconds.clone(),
        );
        r.register(
            "gate_decisions",
            "Confidence gates on steps with a threshold: passed, or escalated to a person",
            m.gate_decisions.clone(),
        );
        r.register(
            "step_confidence",
            "Confidence reported by steps that judge their own result",
            m.confidence.clone(),
        );
        r.register(
            "llm_tokens",
            "Tokens sent to and received from models, by direction (in, out)",
            m.llm_tokens.clone(),
        );
        r.register(
            "llm_cost",
            "Estimated cost of model calls, in the connections' price units",
            m.llm_cost.clone(),
        );
        r.register(
            "ready_steps",
            "Steps due now and waiting for a worker (all processes)",
            m.ready_steps.clone(),
        );
        r.register(
            "oldest_ready_age_seconds",
            "How long the oldest due step has waited for a worker",
            m.oldest_ready_seconds.clone(),
        );
        r.register(
            "waiting_items",
            "Approval items waiting for people, by reason (approval, confidence)",
            m.waiting_items.clone(),
        );
        r.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            m.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template",
            m.http_seconds.clone(),
        );
        r.register(
            "db_writes",
            "SQLite: write transactions and single writes this process made, each taking its turn at the write gate",
            m.db_writes.clone(),
        );
        r.register(
            "db_write_wait_seconds",
            "SQLite: time writers of this process waited for their turn at the write gate",
            m.db_write_waited.clone(),
        );
        r.register(
            "db_write_held_seconds",
            "SQLite: time the write gate was held (near the elapsed time: the writes are what bounds the throughput)",
            m.db_write_held.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// The registry in the text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // writing to a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// Seconds from a duration in milliseconds (never negative: clocks step).
pub fn secs(ms: i64) -> f64 {
    ms.max(0) as f64 / 1000.0
}
