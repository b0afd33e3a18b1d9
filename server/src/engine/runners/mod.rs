//! One runner per node kind. A runner gets the node and the run context and
//! says how the attempt ended; it never touches the database.

mod branch;
mod delay;
mod end;
mod fail;
mod http;
mod passthrough;
mod transform;

use app::domain::graph::{ErrorClass, Node, NodeKind};
use serde_json::Value;

pub use http::idempotency_key;

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
    },
    /// Park the step without a worker until `until` (ms since epoch).
    Park {
        until: i64,
    },
    /// Park the step and ask people: `item` is created with the parking.
    Ask {
        until: i64,
        item: Box<app::store::approvals::NewItem>,
    },
}

impl Outcome {
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
        }
    }
}

/// What a runner may look at.
pub struct Attempt<'a> {
    pub run_id: &'a str,
    /// The step row: the node id, or `<node>~compensate` when undoing it.
    pub step_id: &'a str,
    pub node: &'a Node,
    /// `{input, steps}` (or the input a person gave on retry).
    pub context: &'a Value,
    pub attempt: i64,
    pub now: i64,
    /// The step was parked and this is its wake-up.
    pub woken: bool,
    pub http: &'a reqwest::Client,
    /// Secret values by name, for Http templates (`{{ secrets.NAME }}`).
    pub secrets: &'a std::collections::BTreeMap<String, String>,
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

/// Runs the node, or with `compensate` the request that undoes it.
pub async fn run(a: &Attempt<'_>, compensate: bool) -> Outcome {
    if compensate {
        return match &a.node.compensation {
            Some(request) => http::run(a, request, None).await,
            None => Outcome::fail(ErrorClass::Business, "the node has no compensation request"),
        };
    }
    match &a.node.kind {
        NodeKind::Start { .. } => passthrough::start(a),
        NodeKind::Join {} => passthrough::join(a),
        NodeKind::Transform { expression } => transform::run(a, expression),
        NodeKind::Branch { conditions } => branch::run(a, conditions),
        NodeKind::Delay { duration_ms } => delay::run(a, *duration_ms),
        NodeKind::End { output } => end::run(a, output.as_deref()),
        NodeKind::Fail { message } => fail::run(a, message),
        NodeKind::Http {
            request,
            response_schema,
        } => http::run(a, request, response_schema.as_ref()).await,
        // the engine handles these itself (they need the database)
        NodeKind::Approval(_) => Outcome::fail(
            ErrorClass::Business,
            "an approval step reached a runner; this is a bug",
        ),
    }
}
