//! What validation reports: a problem's kind, the node or edge at fault,
//! and a message that says what to do.

use crate::domain::graph::Node;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    InvalidId,
    DuplicateId,
    MissingStart,
    ExtraStart,
    DanglingEdge,
    UnknownPort,
    DuplicateEdge,
    EdgeIntoStart,
    Unreachable,
    DeadEnd,
    Cycle,
    BranchWithoutDefault,
    BranchWithoutConditions,
    UnconnectedCondition,
    JoinNeedsTwoPaths,
    MissingConfig,
    InvalidExpression,
    InvalidTemplate,
    InvalidSetting,
    /// An expression or template reads a step that is not in the workflow.
    UnknownStep,
    /// A node's `parent` is not a For each step, or frames nest too deep.
    InvalidFrame,
    /// An edge joins a For each body to a step outside it.
    EdgeAcrossFrame,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Problem {
    pub kind: ProblemKind,
    /// The node at fault, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Index into `edges` of the edge at fault, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn node(&mut self, kind: ProblemKind, node: &Node, message: String) {
        self.0.push(Problem {
            kind,
            node: Some(node.id.clone()),
            edge: None,
            message: format!("{}: {message}", label(node)),
        });
    }
    pub(super) fn edge(&mut self, kind: ProblemKind, index: usize, message: String) {
        self.0.push(Problem {
            kind,
            node: None,
            edge: Some(index),
            message,
        });
    }
    pub(super) fn workflow(&mut self, kind: ProblemKind, message: String) {
        self.0.push(Problem {
            kind,
            node: None,
            edge: None,
            message,
        });
    }
}

pub(super) fn label(node: &Node) -> String {
    if node.name.trim().is_empty() || node.name == node.id {
        format!("{} '{}'", node.kind.type_name(), node.id)
    } else {
        format!("{} '{}' ({})", node.kind.type_name(), node.name, node.id)
    }
}
