//! Checks of each node's own settings (no graph structure).

use super::{ProblemKind, Problems};
use crate::domain::expr;
use crate::domain::graph::*;
use std::collections::BTreeSet;

fn check_expression(p: &mut Problems, n: &Node, what: &str, code: &str) {
    if let Err(e) = expr::check(code) {
        p.node(ProblemKind::InvalidExpression, n, format!("{what}: {e}"));
    }
}

/// Longest Code step source, in bytes.
pub const MAX_CODE_BYTES: usize = 256 * 1024;

/// What can be told of JavaScript without an engine (the engine's own
/// syntax check runs in the designer and when the step runs).
fn check_code(p: &mut Problems, n: &Node, source: &str) {
    if source.len() > MAX_CODE_BYTES {
        p.node(
            ProblemKind::MissingConfig,
            n,
            format!(
                "the code is {} KB; the limit is {} KB",
                source.len() / 1024,
                MAX_CODE_BYTES / 1024
            ),
        );
    } else if !source.contains("main") {
        p.node(
            ProblemKind::MissingConfig,
            n,
            "the code needs a function main(ctx) that returns the output".into(),
        );
    }
}

fn check_template(p: &mut Problems, n: &Node, what: &str, src: &str) {
    if let Err(e) = expr::check_template(src) {
        p.node(ProblemKind::InvalidTemplate, n, format!("{what}: {e}"));
    }
}

fn check_request(p: &mut Problems, n: &Node, what: &str, r: &HttpRequest) {
    if !HTTP_METHODS.contains(&r.method.as_str()) {
        p.node(
            ProblemKind::MissingConfig,
            n,
            format!(
                "{what}method '{}' is not one of {}",
                r.method,
                HTTP_METHODS.join(", ")
            ),
        );
    }
    if r.url.trim().is_empty() {
        p.node(
            ProblemKind::MissingConfig,
            n,
            format!("{what}set the URL to call"),
        );
    } else {
        let lower = r.url.trim_start().to_ascii_lowercase();
        if !(lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("{{"))
        {
            p.node(
                ProblemKind::MissingConfig,
                n,
                format!("{what}the URL must start with http:// or https://"),
            );
        }
        check_template(p, n, &format!("{what}URL"), &r.url);
    }
    for (name, value) in &r.headers {
        if name.trim().is_empty() {
            p.node(
                ProblemKind::MissingConfig,
                n,
                format!("{what}a header has no name"),
            );
        }
        check_template(p, n, &format!("{what}header '{name}'"), value);
    }
    if let Some(body) = &r.body {
        check_template(p, n, &format!("{what}body"), body);
    }
}

pub(super) fn check_node_config(p: &mut Problems, n: &Node) {
    if n.name.trim().is_empty() {
        p.node(ProblemKind::MissingConfig, n, "give the node a name".into());
    }
    match &n.kind {
        NodeKind::Start { .. } | NodeKind::Join {} => {}
        NodeKind::Http { request, .. } => check_request(p, n, "", request),
        NodeKind::Transform { expression } => check_expression(p, n, "expression", expression),
        NodeKind::Code { source } => check_code(p, n, source),
        NodeKind::Branch { conditions } => {
            let mut labels = BTreeSet::new();
            for (i, c) in conditions.iter().enumerate() {
                let name = if c.label.is_empty() {
                    format!("#{}", i + 1)
                } else {
                    c.label.clone()
                };
                if c.label.trim().is_empty() {
                    p.node(
                        ProblemKind::MissingConfig,
                        n,
                        format!("condition {name} needs a label"),
                    );
                } else if c.label == PORT_DEFAULT || c.label == PORT_ERROR {
                    p.node(
                        ProblemKind::MissingConfig,
                        n,
                        format!(
                            "'{}' is reserved; give condition {name} another label",
                            c.label
                        ),
                    );
                } else if !labels.insert(c.label.as_str()) {
                    p.node(
                        ProblemKind::MissingConfig,
                        n,
                        format!(
                            "two conditions are labelled '{}'; labels must differ",
                            c.label
                        ),
                    );
                }
                check_expression(p, n, &format!("condition {name}"), &c.expression);
            }
        }
        NodeKind::Approval(a) => {
            if a.title.trim().is_empty() {
                p.node(
                    ProblemKind::MissingConfig,
                    n,
                    "give the approval a title".into(),
                );
            }
            if a.approvers.roles.is_empty() && a.approvers.users.is_empty() {
                p.node(
                    ProblemKind::MissingConfig,
                    n,
                    "say who may decide: at least one role or user".into(),
                );
            }
            for message in deciding_roles(&a.approvers.roles) {
                p.node(ProblemKind::InvalidSetting, n, message);
            }
            if a.required_approvals == 0 {
                p.node(
                    ProblemKind::MissingConfig,
                    n,
                    "required approvals must be at least 1".into(),
                );
            }
            check_template(p, n, "instructions", &a.instructions);
            let mut names = BTreeSet::new();
            for f in &a.form {
                if f.name.trim().is_empty() {
                    p.node(
                        ProblemKind::MissingConfig,
                        n,
                        "a form field has no name".into(),
                    );
                } else if !names.insert(f.name.as_str()) {
                    p.node(
                        ProblemKind::MissingConfig,
                        n,
                        format!("two form fields are named '{}'", f.name),
                    );
                }
                if let FormFieldKind::Choice { options } = &f.kind
                    && options.is_empty()
                {
                    p.node(
                        ProblemKind::MissingConfig,
                        n,
                        format!("choice field '{}' needs options", f.name),
                    );
                }
            }
            if let Some(d) = &a.deadline
                && d.after_ms == 0
            {
                p.node(
                    ProblemKind::MissingConfig,
                    n,
                    "the deadline must be after 0 ms".into(),
                );
            }
        }
        NodeKind::Delay { duration_ms } => {
            if *duration_ms == 0 {
                p.node(ProblemKind::MissingConfig, n, "set how long to wait".into());
            }
        }
        NodeKind::End { output } => {
            if let Some(code) = output {
                check_expression(p, n, "output mapping", code);
            }
        }
        NodeKind::SubWorkflow {
            workflow_id,
            version,
            input,
        } => {
            if workflow_id.trim().is_empty() {
                p.node(
                    ProblemKind::MissingConfig,
                    n,
                    "choose the workflow to run (workflow_id)".into(),
                );
            }
            if version.is_some_and(|v| v < 1) {
                p.node(
                    ProblemKind::InvalidSetting,
                    n,
                    "version must be a saved version (1, 2, ...) or left out for the published one"
                        .into(),
                );
            }
            if let Some(code) = input {
                check_expression(p, n, "input mapping", code);
            }
        }
        NodeKind::ForEach(f) => check_for_each(p, n, f),
        NodeKind::Llm(cfg) => super::llm::check_llm(p, n, cfg),
        NodeKind::Email(e) => super::email::check_email_step(p, n, e),
        NodeKind::Fail { message } => {
            if message.trim().is_empty() {
                p.node(
                    ProblemKind::MissingConfig,
                    n,
                    "say why the run fails (message)".into(),
                );
            } else {
                check_template(p, n, "message", message);
            }
        }
    }
    if let Some(t) = n.confidence_threshold
        && !(0.0..=1.0).contains(&t)
    {
        p.node(
            ProblemKind::InvalidSetting,
            n,
            format!("confidence threshold {t} must be between 0 and 1"),
        );
    }
    if n.timeout_ms == Some(0) {
        p.node(
            ProblemKind::InvalidSetting,
            n,
            "a timeout of 0 ms can never be met".into(),
        );
    }
    for (class, r) in [
        ("transient", &n.retry.transient),
        ("business", &n.retry.business),
        ("format", &n.retry.format),
    ] {
        let bad = if r.max_attempts == 0 || r.max_attempts > 100 {
            Some(format!("attempts must be 1 to 100, not {}", r.max_attempts))
        } else if !(1.0..=10.0).contains(&r.multiplier) {
            Some(format!("multiplier must be 1 to 10, not {}", r.multiplier))
        } else if !(0.0..=1.0).contains(&r.jitter) {
            Some(format!("jitter must be 0 to 1, not {}", r.jitter))
        } else if r.max_delay_ms < r.initial_delay_ms {
            Some("the delay cap is below the initial delay".into())
        } else {
            None
        };
        if let Some(msg) = bad {
            p.node(
                ProblemKind::InvalidSetting,
                n,
                format!("{class} retry: {msg}"),
            );
        }
    }
    if let Some(c) = &n.compensation {
        check_request(p, n, "compensation ", c);
    }
    if n.reversible && n.compensation.is_none() {
        p.node(
            ProblemKind::MissingConfig,
            n,
            "a reversible step needs a compensation request that undoes it".into(),
        );
    }
}

pub(super) fn check_settings(p: &mut Problems, def: &WorkflowDef) {
    if let Some(t) = def.settings.confidence_threshold
        && !(0.0..=1.0).contains(&t)
    {
        p.workflow(
            ProblemKind::InvalidSetting,
            format!("the workflow's confidence threshold {t} must be between 0 and 1"),
        );
    }
    if def.settings.run_timeout_ms == Some(0) {
        p.workflow(
            ProblemKind::InvalidSetting,
            "a run timeout of 0 ms can never be met".into(),
        );
    }
    if let Some(url) = &def.settings.notify_webhook
        && let Err(e) = crate::domain::outbound::check_webhook_url(url)
    {
        p.workflow(
            ProblemKind::InvalidSetting,
            format!("the notification webhook {e}"),
        );
    }
    for message in deciding_roles(&def.settings.gate_reviewers.roles) {
        p.workflow(
            ProblemKind::InvalidSetting,
            format!("confidence-gate reviewers: {message}"),
        );
    }
}

/// What is wrong with each role named as a decider: not a role, or a role
/// that may not decide approvals (the permission matrix says which may).
fn deciding_roles(roles: &[String]) -> impl Iterator<Item = String> + '_ {
    use crate::domain::auth::{Permission, ROLES, Role};
    let may = ROLES
        .iter()
        .filter(|x| x.allows(Permission::DecideApprovals))
        .map(|x| x.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    roles.iter().filter_map(move |r| match r.parse::<Role>() {
        Err(_) => Some(format!(
            "'{r}' is not a role; deciders are the roles {may}, or named users"
        )),
        Ok(role) if !role.allows(Permission::DecideApprovals) => Some(format!(
            "the role {role} may not decide approvals; deciders are the roles {may}, or named users"
        )),
        Ok(_) => None,
    })
}

fn check_for_each(p: &mut Problems, n: &Node, f: &ForEachConfig) {
    if f.items.trim().is_empty() {
        p.node(
            ProblemKind::MissingConfig,
            n,
            "say which list to go through (items, a jq expression such as .input.lines)".into(),
        );
    } else {
        check_expression(p, n, "items expression", &f.items);
    }
    if !(1..=MAX_CONCURRENCY).contains(&f.concurrency) {
        p.node(
            ProblemKind::InvalidSetting,
            n,
            format!(
                "concurrency must be from 1 to {MAX_CONCURRENCY} (items at once), not {}",
                f.concurrency
            ),
        );
    }
    if f.tolerated_failure_percent
        .is_some_and(|x| !(0.0..=100.0).contains(&x))
    {
        p.node(
            ProblemKind::InvalidSetting,
            n,
            "tolerated_failure_percent must be from 0 to 100".into(),
        );
    }
}
