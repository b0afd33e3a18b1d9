//! The workflow graph: what people draw and what the engine runs.
//!
//! The JSON form of these types is the public workflow format (see
//! `docs/workflow-format.md`); change it only in backward-compatible ways.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

mod approval;
mod email;
mod foreach;
mod llm;
mod loops;
mod retry;
mod scope;
mod summary;
pub use approval::*;
pub use email::*;
pub use foreach::*;
pub use llm::*;
pub use retry::*;

/// A complete workflow definition. Every save stores one of these as a new,
/// immutable version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkflowDef {
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
    #[serde(default)]
    pub settings: Settings,
}

/// Workflow-wide settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Below this cumulative confidence the run stops and asks a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_threshold: Option<f64>,
    /// Whole-run time limit in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_timeout_ms: Option<u64>,
    /// Who decides confidence-gate items: roles and/or named users (none
    /// given: the roles in `DEFAULT_GATE_ROLES`).
    #[serde(default, skip_serializing_if = "Approvers::is_empty")]
    pub gate_reviewers: Approvers,
    /// A Slack-compatible incoming webhook told when this workflow's
    /// approval items open, are escalated or near their deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_webhook: Option<String>,
}

/// Who decides confidence-gate items when the workflow does not say.
pub const DEFAULT_GATE_ROLES: [&str; 2] = ["approver", "admin"];

impl Settings {
    /// Who decides this workflow's confidence-gate items.
    pub fn gate_reviewers(&self) -> Approvers {
        if self.gate_reviewers.is_empty() {
            Approvers {
                roles: DEFAULT_GATE_ROLES.map(String::from).to_vec(),
                users: vec![],
            }
        } else {
            self.gate_reviewers.clone()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Node {
    /// Stable identifier referenced by edges and expressions
    /// (`.steps.<id>.output`): lowercase letters, digits, `_` and `-`.
    pub id: String,
    /// What people read on the canvas.
    pub name: String,
    #[serde(flatten)]
    pub kind: NodeKind,
    #[serde(default)]
    pub position: Position,
    #[serde(default, skip_serializing_if = "RetryPolicies::is_default")]
    pub retry: RetryPolicies,
    /// Per-attempt time limit in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Overrides the workflow-wide threshold for this node's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_threshold: Option<f64>,
    /// A reversible step is compensated when the run fails after it succeeded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reversible: bool,
    /// The request that undoes this step (used when `reversible`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation: Option<HttpRequest>,
    /// The For each step whose body holds this node (drawn inside its
    /// frame); none for the workflow's own steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Makes this step the entry of a bounded loop: a later step may
    /// connect back to it, and it runs at most this many passes; then the
    /// run takes its `exhausted` port (or fails saying so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<u32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// What a node does. Serialized flat inside the node with a `type` tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    /// Where a run begins; `input_schema` (JSON Schema) describes the input.
    Start {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input_schema: Option<Value>,
    },
    /// Calls an HTTP endpoint; URL, headers and body are templates.
    Http {
        #[serde(flatten)]
        request: HttpRequest,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response_schema: Option<Value>,
    },
    /// Computes its output with a jq expression over the run context.
    Transform { expression: String },
    /// Computes its output with JavaScript: `function main(ctx)` over the
    /// run context, in a sandbox with time and memory limits and nothing
    /// but the language (no files, network or modules). Its return value
    /// is the output (a numeric `confidence` in it is reported); console
    /// lines go to the step log.
    Code { source: String },
    /// Takes the edge of the first condition that holds, else `default`.
    Branch { conditions: Vec<BranchCondition> },
    /// Waits for every incoming path that was not skipped.
    Join {},
    /// A human checkpoint.
    Approval(ApprovalConfig),
    /// Waits durably for a fixed time.
    Delay { duration_ms: u64 },
    /// Ends the run successfully; `output` (jq) shapes the run's output.
    End {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// Ends the path with a business error; `message` is a template.
    Fail { message: String },
    /// Runs another workflow (its published version, or `version`) as a
    /// child run with the input `input` (jq over the run context; without
    /// one, the run's input) and waits for it, holding no worker; its
    /// output is the child's output.
    SubWorkflow {
        workflow_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<String>,
    },
    /// Runs its body (the nodes whose `parent` is this one, from their own
    /// Start to an End) once per item of a list, each item as an item run.
    ForEach(ForEachConfig),
    /// Asks a language model, through a model connection, to classify,
    /// extract or generate; its confidence is measured, not claimed.
    Llm(LlmConfig),
    /// Sends an email through the instance's mail server; its Message-ID
    /// comes from the step's idempotency key, so a repeated send can be
    /// recognised.
    Email(EmailConfig),
}

impl NodeKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Start { .. } => "start",
            NodeKind::Http { .. } => "http",
            NodeKind::Transform { .. } => "transform",
            NodeKind::Code { .. } => "code",
            NodeKind::Branch { .. } => "branch",
            NodeKind::Join {} => "join",
            NodeKind::Approval(_) => "approval",
            NodeKind::Delay { .. } => "delay",
            NodeKind::End { .. } => "end",
            NodeKind::Fail { .. } => "fail",
            NodeKind::SubWorkflow { .. } => "sub_workflow",
            NodeKind::ForEach(_) => "for_each",
            NodeKind::Llm(_) => "llm",
            NodeKind::Email(_) => "email",
        }
    }

    /// The output ports of this node, besides `error` (which every node
    /// that does work may have).
    pub fn ports(&self) -> Vec<String> {
        match self {
            NodeKind::Branch { conditions } => conditions
                .iter()
                .map(|c| c.label.clone())
                .chain(std::iter::once(PORT_DEFAULT.to_string()))
                .collect(),
            NodeKind::Approval(_) => vec![PORT_OUT.into(), PORT_REJECTED.into()],
            NodeKind::Llm(cfg) => cfg.ports(),
            NodeKind::End { .. } | NodeKind::Fail { .. } => vec![],
            _ => vec![PORT_OUT.into()],
        }
    }

    /// Whether the node may fail in a way an `error` edge can catch.
    pub fn can_error(&self) -> bool {
        matches!(
            self,
            NodeKind::Http { .. }
                | NodeKind::Transform { .. }
                | NodeKind::Code { .. }
                | NodeKind::Branch { .. }
                | NodeKind::SubWorkflow { .. }
                | NodeKind::ForEach(_)
                | NodeKind::Llm(_)
                | NodeKind::Email(_)
        )
    }
}

pub const PORT_OUT: &str = "out";
pub const PORT_ERROR: &str = "error";
pub const PORT_DEFAULT: &str = "default";
pub const PORT_REJECTED: &str = "rejected";
/// A loop's entry leaves through it when its passes are used up.
pub const PORT_EXHAUSTED: &str = "exhausted";
/// The most passes a loop may be given.
pub const MAX_ITERATIONS: u32 = 1000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BranchCondition {
    /// The port name; the edge for this condition leaves from it.
    pub label: String,
    /// jq expression over the run context; true selects this edge.
    pub expression: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct HttpRequest {
    #[serde(default = "default_method")]
    pub method: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}

pub const HTTP_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// An edge leaves `from` through `port` and enters `to`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub from: String,
    #[serde(default = "default_port")]
    pub port: String,
    pub to: String,
}

fn default_port() -> String {
    PORT_OUT.into()
}

impl Node {
    /// A node with default settings, for building graphs in code.
    pub fn new(id: &str, name: &str, kind: NodeKind) -> Self {
        Node {
            id: id.into(),
            name: name.into(),
            kind,
            position: Position::default(),
            retry: RetryPolicies::default(),
            timeout_ms: None,
            confidence_threshold: None,
            reversible: false,
            compensation: None,
            parent: None,
            max_iterations: None,
        }
    }

    /// Its output ports besides `error`: its kind's, and `exhausted` when it
    /// is a loop's entry.
    pub fn ports(&self) -> Vec<String> {
        let mut ports = self.kind.ports();
        if self.max_iterations.is_some() {
            ports.push(PORT_EXHAUSTED.into());
        }
        ports
    }

    /// The same node inside the body of For each `parent`.
    pub fn inside(mut self, parent: &str) -> Self {
        self.parent = Some(parent.into());
        self
    }

    pub fn at(mut self, x: f64, y: f64) -> Self {
        self.position = Position { x, y };
        self
    }
}

impl Edge {
    pub fn new(from: &str, port: &str, to: &str) -> Self {
        Edge {
            from: from.into(),
            port: port.into(),
            to: to.into(),
        }
    }
}

/// `90000` -> `1m 30s`.
pub fn human_duration(ms: u64) -> String {
    let secs = ms / 1000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "m"), (s, "s")]
        .iter()
        .filter(|(v, _)| *v > 0)
        .map(|(v, u)| format!("{v}{u}"))
        .collect();
    if parts.is_empty() {
        format!("{ms}ms")
    } else {
        parts.join(" ")
    }
}

impl WorkflowDef {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Whether its runs can start other runs (a Sub-workflow or a For each
    /// step), whose ends then reach back into them.
    pub fn starts_runs(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| matches!(n.kind, NodeKind::SubWorkflow { .. } | NodeKind::ForEach(_)))
    }

    /// The smallest runnable workflow: Start straight to End.
    pub fn minimal() -> Self {
        WorkflowDef {
            nodes: vec![
                Node::new("start", "Start", NodeKind::Start { input_schema: None }).at(80.0, 120.0),
                Node::new("end", "End", NodeKind::End { output: None }).at(360.0, 120.0),
            ],
            edges: vec![Edge::new("start", PORT_OUT, "end")],
            settings: Settings::default(),
        }
    }
}

#[cfg(test)]
mod tests;
