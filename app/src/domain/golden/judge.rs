//! Judging one test run against its case: what the assertions read, where
//! an output differs from the expected one, and the verdict.

use super::CaseSpec;
use crate::domain::records::StepRecord;
use crate::domain::run::StepStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Differences listed per failure at most (the rest are counted).
pub const MAX_DIFFERENCES: usize = 50;

/// What assertions read of a finished test run:
/// `{status, output, steps: {<id>: {status, output, confidence, port}},
///   route: [<ids of the steps that succeeded, in order>],
///   asked: [{step, reason}], escalated}`.
pub fn summary(
    status: &str,
    output: Option<&Value>,
    steps: &[StepRecord],
    asked: &[(String, String)],
) -> Value {
    let mut by_id = Map::new();
    for s in steps {
        by_id.insert(
            s.node_id.clone(),
            json!({
                "status": s.status.as_str(),
                "output": s.output,
                "confidence": s.confidence,
                "port": s.port,
            }),
        );
    }
    let mut done: Vec<&StepRecord> = steps
        .iter()
        .filter(|s| s.status == StepStatus::Succeeded)
        .collect();
    done.sort_by_key(|s| (s.finished_at.unwrap_or(i64::MAX), s.started_at));
    json!({
        "status": status,
        "output": output,
        "steps": by_id,
        "route": done.iter().map(|s| s.node_id.as_str()).collect::<Vec<_>>(),
        "asked": asked.iter().map(|(step, reason)| json!({"step": step, "reason": reason})).collect::<Vec<_>>(),
        "escalated": asked.iter().any(|(_, reason)| reason == "confidence"),
    })
}

/// One place where the actual value differs from the expected one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Difference {
    /// Where, as a jq path (`.amount`, `.lines[2].sku`; `.` for the whole).
    pub path: String,
    /// None: not there.
    pub expected: Option<Value>,
    pub actual: Option<Value>,
}

/// Where `actual` differs from `expected`, deepest first found, at most
/// [`MAX_DIFFERENCES`]; numbers compare by value (`1` equals `1.0`).
pub fn diff(expected: &Value, actual: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    walk(".", expected, actual, &mut out);
    out
}

fn join(at: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    let key = if plain {
        key.to_string()
    } else {
        serde_json::to_string(key).unwrap_or_default()
    };
    if at == "." {
        format!(".{key}")
    } else {
        format!("{at}.{key}")
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn walk(at: &str, expected: &Value, actual: &Value, out: &mut Vec<Difference>) {
    if out.len() >= MAX_DIFFERENCES || same(expected, actual) {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => walk(&join(at, k), ev, av, out),
                    None => push(out, join(at, k), Some(ev), None),
                }
            }
            for (k, av) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                push(out, join(at, k), None, Some(av));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for i in 0..e.len().max(a.len()) {
                let path = if at == "." {
                    format!(".[{i}]")
                } else {
                    format!("{at}[{i}]")
                };
                match (e.get(i), a.get(i)) {
                    (Some(ev), Some(av)) => walk(&path, ev, av, out),
                    (ev, av) => push(out, path, ev, av),
                }
            }
        }
        _ => push(out, at.to_string(), Some(expected), Some(actual)),
    }
}

fn push(out: &mut Vec<Difference>, path: String, e: Option<&Value>, a: Option<&Value>) {
    if out.len() < MAX_DIFFERENCES {
        out.push(Difference {
            path,
            expected: e.cloned(),
            actual: a.cloned(),
        });
    }
}

/// Why a case failed, in words, with the differences when outputs differ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Failure {
    pub what: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<Difference>,
}

/// A step whose route the case names, and the one it took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RouteSeen {
    pub step: String,
    pub expected: String,
    /// None: the step did not finish.
    pub actual: Option<String>,
}

/// How one case did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CaseResult {
    pub case_id: String,
    pub name: String,
    pub run_id: String,
    /// How the test run ended.
    pub status: String,
    pub passed: bool,
    pub failures: Vec<Failure>,
    pub routes: Vec<RouteSeen>,
    /// A person would have been asked (an approval or a confidence check).
    pub asked: bool,
}

/// The verdict on a case whose run ended with `summary`; `assertions` are
/// the results of the case's assertions, in order (the value each jq gave,
/// or why it could not be evaluated). A case that expects nothing passes
/// when its run succeeded.
pub fn judge(
    case_id: &str,
    spec: &CaseSpec,
    run_id: &str,
    summary: &Value,
    assertions: &[Result<Value, String>],
) -> CaseResult {
    let status = summary["status"].as_str().unwrap_or("unknown").to_string();
    let mut failures = Vec::new();
    if let Some(expected) = &spec.expect_output {
        let actual = &summary["output"];
        let differences = diff(expected, actual);
        if !differences.is_empty() {
            failures.push(Failure {
                what: format!("the output differs in {} place(s)", differences.len()),
                diff: differences,
            });
        }
    }
    let mut routes = Vec::new();
    for (step, expected) in &spec.expect_routes {
        let actual = summary["steps"][step]["port"].as_str().map(str::to_string);
        if actual.as_deref() != Some(expected.as_str()) {
            failures.push(Failure {
                what: match &actual {
                    Some(a) => format!("step '{step}' took '{a}', expected '{expected}'"),
                    None => {
                        format!("step '{step}' did not finish; expected it to take '{expected}'")
                    }
                },
                diff: vec![],
            });
        }
        routes.push(RouteSeen {
            step: step.clone(),
            expected: expected.clone(),
            actual,
        });
    }
    for (a, got) in spec.assertions.iter().zip(assertions) {
        match got {
            Ok(Value::Bool(true)) => {}
            Ok(v) => failures.push(Failure {
                what: format!("assertion '{}' gave {v}, not true", a.name),
                diff: vec![],
            }),
            Err(e) => failures.push(Failure {
                what: format!("assertion '{}' could not be evaluated: {e}", a.name),
                diff: vec![],
            }),
        }
    }
    let expects_nothing =
        spec.expect_output.is_none() && spec.expect_routes.is_empty() && spec.assertions.is_empty();
    if expects_nothing && status != "succeeded" {
        failures.push(Failure {
            what: format!(
                "the run {status}; a case that expects nothing else expects it to succeed"
            ),
            diff: vec![],
        });
    }
    CaseResult {
        case_id: case_id.to_string(),
        name: spec.name.clone(),
        run_id: run_id.to_string(),
        status,
        passed: failures.is_empty(),
        failures,
        routes,
        asked: summary["asked"].as_array().is_some_and(|a| !a.is_empty()),
    }
}
