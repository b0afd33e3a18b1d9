//! Code steps: the script runs in the sandbox (QuickJS in a child process,
//! see `sandbox::js`); this turns its answer into the step's outcome and
//! its console lines.

use super::{Outcome, sandbox_failure};
use crate::sandbox::{Job, Request, Sandbox};
use app::domain::graph::ErrorClass;
use serde_json::Value;

/// Runs `source`'s `main` over `ctx`: the outcome, and what it logged.
pub async fn run(sandbox: &Sandbox, source: &str, ctx: &Value) -> (Outcome, Vec<String>) {
    let job = Job::Js {
        code: source.to_string(),
        ctx: 0,
    };
    let answer = match sandbox.run(&Request::over(ctx, vec![job])).await {
        Ok(mut r) => r
            .pop()
            .unwrap_or_else(|| Err("the sandbox gave no result".into())),
        Err(e) => return (sandbox_failure(e), vec![]),
    };
    match answer {
        Ok(answer) => outcome(answer),
        // a result too large to send back
        Err(e) => (Outcome::fail(ErrorClass::Format, e), vec![]),
    }
}

/// `{"value"|"error", "logs"}` as the step's outcome and console lines.
pub fn outcome(mut answer: Value) -> (Outcome, Vec<String>) {
    let logs = match answer.get_mut("logs").map(Value::take) {
        Some(Value::Array(lines)) => lines
            .into_iter()
            .map(|l| match l {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect(),
        _ => vec![],
    };
    if let Some(e) = answer.get("error").and_then(Value::as_str) {
        // the script threw, or crossed a limit: the author's to fix, and
        // an error edge catches it
        return (Outcome::fail(ErrorClass::Business, e), logs);
    }
    let output = answer
        .get_mut("value")
        .map(Value::take)
        .unwrap_or(Value::Null);
    let confidence = output
        .get("confidence")
        .and_then(Value::as_f64)
        .filter(|c| (0.0..=1.0).contains(c));
    (
        Outcome::Done {
            output,
            confidence,
            port: app::domain::PORT_OUT.into(),
        },
        logs,
    )
}
