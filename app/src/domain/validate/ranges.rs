//! Every number and every list in a definition has a range; a value outside
//! it is a problem that names the field and the range.

use super::{ProblemKind, Problems};
use crate::domain::graph::*;
use crate::domain::limits::*;

fn range(p: &mut Problems, n: &Node, field: &str, value: u64, min: u64, max: u64) {
    if let Err(e) = in_range(field, value, min, max) {
        p.node(ProblemKind::InvalidSetting, n, e);
    }
}

fn count(p: &mut Problems, n: &Node, what: &str, len: usize) {
    if len > MAX_LIST {
        p.node(
            ProblemKind::InvalidSetting,
            n,
            format!("{len} {what} are too many; the limit is {MAX_LIST}"),
        );
    }
}

fn name(p: &mut Problems, n: &Node, what: &str, s: &str) {
    let chars = s.chars().count();
    if chars > MAX_NAME_CHARS {
        p.node(
            ProblemKind::InvalidSetting,
            n,
            format!("the {what} is {chars} characters long; the limit is {MAX_NAME_CHARS}"),
        );
    }
}

pub(super) fn check_node_ranges(p: &mut Problems, n: &Node) {
    name(p, n, "name", &n.name);
    for (axis, v) in [("x", n.position.x), ("y", n.position.y)] {
        if !(v.is_finite() && v.abs() <= MAX_COORDINATE) {
            p.node(
                ProblemKind::InvalidSetting,
                n,
                format!("position {axis} must be between -{MAX_COORDINATE} and {MAX_COORDINATE}, not {v}"),
            );
        }
    }
    if let Some(ms) = n.timeout_ms {
        range(p, n, "timeout_ms", ms, 1, MAX_STEP_TIMEOUT_MS);
    }
    for (class, r) in [
        ("transient", &n.retry.transient),
        ("business", &n.retry.business),
        ("format", &n.retry.format),
    ] {
        range(
            p,
            n,
            &format!("{class} retry initial_delay_ms"),
            r.initial_delay_ms,
            0,
            MAX_RETRY_DELAY_MS,
        );
        range(
            p,
            n,
            &format!("{class} retry max_delay_ms"),
            r.max_delay_ms,
            0,
            MAX_RETRY_DELAY_MS,
        );
    }
    match &n.kind {
        NodeKind::Delay { duration_ms } => range(p, n, "duration_ms", *duration_ms, 1, MAX_WAIT_MS),
        NodeKind::Branch { conditions } => {
            count(p, n, "conditions", conditions.len());
            for c in conditions {
                name(p, n, "condition label", &c.label);
            }
        }
        NodeKind::Http { request, .. } => count(p, n, "headers", request.headers.len()),
        NodeKind::Approval(a) => {
            range(
                p,
                n,
                "required_approvals",
                a.required_approvals.into(),
                1,
                MAX_REQUIRED_APPROVALS.into(),
            );
            if let Some(d) = &a.deadline {
                range(p, n, "deadline after_ms", d.after_ms, 1, MAX_WAIT_MS);
            }
            count(p, n, "form fields", a.form.len());
            count(
                p,
                n,
                "approver roles and users",
                a.approvers.roles.len() + a.approvers.users.len(),
            );
            for f in &a.form {
                name(p, n, "form field name", &f.name);
                if let FormFieldKind::Choice { options } = &f.kind {
                    count(p, n, "choice options", options.len());
                }
            }
        }
        _ => {}
    }
    if let Some(c) = &n.compensation {
        count(p, n, "compensation headers", c.headers.len());
    }
}

/// Too many nodes or edges: the one problem reported, before any check
/// whose cost grows with the graph.
pub(super) fn too_large(def: &WorkflowDef) -> Option<String> {
    if def.nodes.len() > MAX_NODES {
        Some(format!(
            "the workflow has {} steps; the limit is {MAX_NODES}: split it into several workflows",
            def.nodes.len()
        ))
    } else if def.edges.len() > MAX_EDGES {
        Some(format!(
            "the workflow has {} connections; the limit is {MAX_EDGES}",
            def.edges.len()
        ))
    } else {
        None
    }
}

pub(super) fn check_settings_ranges(p: &mut Problems, def: &WorkflowDef) {
    if let Some(ms) = def.settings.run_timeout_ms
        && let Err(e) = in_range("run_timeout_ms", ms, 1, MAX_WAIT_MS)
    {
        p.workflow(ProblemKind::InvalidSetting, e);
    }
}

fn position_in_range(p: Position) -> bool {
    [p.x, p.y]
        .iter()
        .all(|v| v.is_finite() && v.abs() <= MAX_COORDINATE)
}

/// Whether `b` differs from `a` only in where steps are drawn, every one
/// of them within range in both: then `b` has exactly `a`'s problems, and
/// moving steps on a large canvas need not check every expression again.
pub fn moved_only(a: &WorkflowDef, b: &WorkflowDef) -> bool {
    // spelled out field by field, so a new field cannot be forgotten here
    let same_node = |x: &Node, y: &Node| {
        let Node {
            id,
            name,
            kind,
            position,
            retry,
            timeout_ms,
            confidence_threshold,
            reversible,
            compensation,
            parent,
            max_iterations,
        } = x;
        position_in_range(*position)
            && position_in_range(y.position)
            && *id == y.id
            && *name == y.name
            && *kind == y.kind
            && *retry == y.retry
            && *timeout_ms == y.timeout_ms
            && *confidence_threshold == y.confidence_threshold
            && *reversible == y.reversible
            && *compensation == y.compensation
            && *parent == y.parent
            && *max_iterations == y.max_iterations
    };
    let WorkflowDef {
        nodes,
        edges,
        settings,
    } = a;
    *edges == b.edges
        && *settings == b.settings
        && nodes.len() == b.nodes.len()
        && nodes.iter().zip(&b.nodes).all(|(x, y)| same_node(x, y))
}
