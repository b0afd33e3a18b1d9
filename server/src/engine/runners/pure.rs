//! The pure kinds (Start, Join, Transform, Branch, End, Fail): each says
//! which expressions or templates it needs evaluated ([`jobs`]) and what
//! their results mean ([`outcome`]). The evaluation itself happens in the
//! sandbox, in one round trip per step, outside any database transaction.

use super::Outcome;
use crate::sandbox::{Job, JobResult};
use app::domain::expr;
use app::domain::graph::{ErrorClass, NodeKind, PORT_DEFAULT};
use serde_json::{Value, json};

/// What `kind` needs evaluated over the run context.
pub fn jobs(kind: &NodeKind) -> Vec<Job> {
    match kind {
        NodeKind::Transform { expression } => vec![Job::jq(expression)],
        NodeKind::Branch { conditions } => {
            conditions.iter().map(|c| Job::jq(&c.expression)).collect()
        }
        NodeKind::End { output: Some(code) } => vec![Job::jq(code)],
        NodeKind::Fail { message } => vec![Job::template(message)],
        _ => vec![],
    }
}

/// How the step ended, given its jobs' results in order.
pub fn outcome(kind: &NodeKind, ctx: &Value, results: Vec<JobResult>) -> Outcome {
    let mut results = results.into_iter();
    let mut next = || {
        results
            .next()
            .unwrap_or_else(|| Err("the sandbox answered too few results".into()))
    };
    match kind {
        NodeKind::Start { .. } => Outcome::out(ctx.get("input").cloned().unwrap_or(Value::Null)),
        NodeKind::Join {} => Outcome::out(json!({})),
        NodeKind::Transform { .. } => match next() {
            // A result object with a numeric `confidence` in [0, 1] reports it.
            Ok(output) => {
                let confidence = output
                    .get("confidence")
                    .and_then(|c| c.as_f64())
                    .filter(|c| (0.0..=1.0).contains(c));
                Outcome::Done {
                    output,
                    confidence,
                    port: app::domain::PORT_OUT.into(),
                }
            }
            Err(e) => Outcome::fail(ErrorClass::Format, e),
        },
        // the first condition that holds, else `default`
        NodeKind::Branch { conditions } => {
            for c in conditions {
                match next() {
                    Ok(v) if expr::truthy(&v) => {
                        return Outcome::Done {
                            output: json!({"taken": c.label}),
                            confidence: None,
                            port: c.label.clone(),
                        };
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Outcome::fail(
                            ErrorClass::Format,
                            format!("condition '{}': {e}", c.label),
                        );
                    }
                }
            }
            Outcome::Done {
                output: json!({"taken": PORT_DEFAULT}),
                confidence: None,
                port: PORT_DEFAULT.into(),
            }
        }
        // the output mapping shapes the run's output; without one it is
        // the outputs of all steps
        NodeKind::End { output } => match output {
            Some(_) => match next() {
                Ok(v) => Outcome::out(v),
                Err(e) => Outcome::fail(ErrorClass::Format, format!("output mapping: {e}")),
            },
            None => Outcome::out(ctx.get("steps").cloned().unwrap_or(Value::Null)),
        },
        // ends the path with a business error whose message is the template
        NodeKind::Fail { message } => {
            let text = match next() {
                Ok(Value::String(s)) => s,
                Ok(other) => other.to_string(),
                Err(e) => format!("{message} (message template failed: {e})"),
            };
            Outcome::fail(ErrorClass::Business, text)
        }
        _ => Outcome::fail(
            ErrorClass::Business,
            "this kind of step has no pure runner; this is a bug",
        ),
    }
}
