//! One runner per node kind. A runner gets the node and the run context and
//! says how the attempt ended; it never touches the database. Whatever a
//! workflow computes is evaluated in the sandbox.

pub mod code;
mod delay;
pub mod email;
mod http;
pub mod llm;
pub mod pure;
mod request;

use crate::outbound::Outbound;
use crate::sandbox::{Request, Sandbox, SandboxError};
use app::domain::graph::{ErrorClass, Node, NodeKind};
use serde_json::Value;

pub use request::request_secret_names;

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Finished through `port` with `output` and, if the runner can judge,
    /// how sure it is.
    Done {
        output: Value,
        confidence: Option<f64>,
        port: String,
    },
    Failed {
        class: ErrorClass,
        message: String,
        /// The server asked to wait this long before trying again
        /// (`Retry-After`): the next attempt waits at least this long.
        retry_after_ms: Option<u64>,
    },
    /// Park the step without a worker until `until` (ms since epoch).
    Park { until: i64 },
    /// Park the step and ask people: `item` is created with the parking.
    Ask {
        until: i64,
        item: Box<app::store::approvals::NewItem>,
    },
    /// Park the step and start `child` as a child run with the parking; its
    /// end wakes the step.
    Spawn { child: Box<ChildStart> },
    /// Park the step and store `items` as its list with the parking; its
    /// first items start then, and the list's end wakes the step.
    Iterate { items: Vec<Value> },
}

/// How an attempt ended, and what an LLM step sent and received.
pub struct Ran {
    pub outcome: Outcome,
    pub call: Option<app::domain::llm::ModelCall>,
    /// A Code step's console lines, for the step log.
    pub console: Vec<String>,
}

impl From<Outcome> for Ran {
    fn from(outcome: Outcome) -> Ran {
        Ran {
            outcome,
            call: None,
            console: vec![],
        }
    }
}

/// A run a Sub-workflow step starts.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildStart {
    pub runnable: app::ops::runs::Runnable,
    pub input: Value,
    /// Who the parent run was started by (the child acts for them).
    pub started_by: String,
}

impl Outcome {
    /// A finished outcome reporting at most `confidence` (a chaos run's
    /// low-confidence fault); any other unchanged.
    pub fn with_confidence(self, low: f64) -> Self {
        match self {
            Outcome::Done {
                output,
                confidence,
                port,
            } => Outcome::Done {
                output,
                confidence: Some(confidence.map_or(low, |c| c.min(low))),
                port,
            },
            other => other,
        }
    }

    pub fn out(output: Value) -> Self {
        Outcome::Done {
            output,
            confidence: None,
            port: app::domain::PORT_OUT.into(),
        }
    }
    pub fn fail(class: ErrorClass, message: impl Into<String>) -> Self {
        Outcome::Failed {
            class,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The same outcome with every one of `values` (secrets, in every
    /// spelling) masked in its output or its message.
    pub fn masked(self, values: &[&str]) -> Self {
        use app::domain::redact::{redact, redact_str};
        match self {
            Outcome::Done {
                mut output,
                confidence,
                port,
            } => {
                redact(&mut output, values);
                Outcome::Done {
                    output,
                    confidence,
                    port,
                }
            }
            Outcome::Failed {
                class,
                message,
                retry_after_ms,
            } => Outcome::Failed {
                class,
                message: redact_str(&message, values),
                retry_after_ms,
            },
            other => other,
        }
    }
}

/// A secret a step may use: its value, and the hosts it may be sent to.
#[derive(Clone, Debug)]
pub struct OpenSecret {
    pub value: String,
    pub hosts: app::domain::outbound::HostList,
}

/// What a runner may look at.
pub struct Attempt<'a> {
    pub run_id: &'a str,
    /// For an item run, its place in its For each's list.
    pub item: Option<&'a app::domain::records::ItemPlace>,
    /// The pass of its loop the step is in (0 outside loops).
    pub pass: i64,
    /// The step row: the node id, or `<node>~compensate` when undoing it.
    pub step_id: &'a str,
    pub node: &'a Node,
    /// `{input, steps}` (or the input a person gave on retry).
    pub context: &'a Value,
    pub attempt: i64,
    pub now: i64,
    /// The step was parked and this is its wake-up.
    pub woken: bool,
    pub sandbox: &'a Sandbox,
    pub outbound: &'a Outbound,
    /// The secrets the step's templates name, by name.
    pub secrets: &'a std::collections::BTreeMap<String, OpenSecret>,
}

/// Kinds whose runner has no side effect and finishes at once: the engine
/// may run them straight after their predecessor, in the same transaction.
pub fn is_pure(kind: &NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Start { .. }
            | NodeKind::Transform { .. }
            | NodeKind::Branch { .. }
            | NodeKind::Join {}
            | NodeKind::End { .. }
            | NodeKind::Fail { .. }
    )
}

/// A request the sandbox could not answer, as the step's failure: a bound
/// crossed is the author's to fix (`format`); a sandbox that would not
/// start is worth another attempt (`transient`).
pub fn sandbox_failure(e: SandboxError) -> Outcome {
    match e {
        SandboxError::Limit(m) => Outcome::fail(ErrorClass::Format, m),
        SandboxError::Unavailable(m) => Outcome::fail(ErrorClass::Transient, m),
    }
}

/// Runs a pure node: its jobs in one sandbox request, then their meaning.
pub async fn run_pure(sandbox: &Sandbox, kind: &NodeKind, ctx: &Value) -> Outcome {
    let jobs = pure::jobs(kind);
    let results = if jobs.is_empty() {
        vec![]
    } else {
        match sandbox.run(&Request::over(ctx, jobs)).await {
            Ok(r) => r,
            Err(e) => return sandbox_failure(e),
        }
    };
    pure::outcome(kind, ctx, results)
}

/// Runs the node, or with `compensate` the request that undoes it.
pub async fn run(a: &Attempt<'_>, compensate: bool) -> Outcome {
    if compensate {
        return match &a.node.compensation {
            Some(request) => http::run(a, request, None).await,
            None => Outcome::fail(ErrorClass::Business, "the node has no compensation request"),
        };
    }
    match &a.node.kind {
        NodeKind::Delay { duration_ms } => delay::run(a, *duration_ms),
        NodeKind::Http {
            request,
            response_schema,
        } => http::run(a, request, response_schema.as_ref()).await,
        // the engine handles these itself (they need the database)
        NodeKind::Approval(_)
        | NodeKind::SubWorkflow { .. }
        | NodeKind::ForEach(_)
        | NodeKind::Code { .. }
        | NodeKind::Email(_)
        | NodeKind::Llm(_) => Outcome::fail(
            ErrorClass::Business,
            format!(
                "a {} step reached a runner; this is a bug",
                a.node.kind.type_name()
            ),
        ),
        kind => run_pure(a.sandbox, kind, a.context).await,
    }
}
