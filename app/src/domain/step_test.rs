//! Testing one step on its own, with sample data, without starting a run:
//! which steps can be tested, which ask first because they may change
//! something elsewhere, and what a test gives back. Pure; the server
//! refuses what [`may_test`] refuses.

use super::graph::NodeKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What one test of a step gave.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepTestResult {
    pub output: Option<Value>,
    /// The port the step would leave by.
    pub port: Option<String>,
    pub confidence: Option<f64>,
    pub error_class: Option<String>,
    pub error: Option<String>,
    pub took_ms: i64,
    /// An LLM step: the prompt sent, the answers, tokens, cost and the
    /// confidence with its method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<crate::domain::llm::ModelCall>,
    /// A Code step: what it wrote to its console.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub console: Vec<String>,
}

/// Whether the step changes something outside Stepwise when it runs: an
/// Http step with a method other than GET or HEAD.
pub fn side_effect(kind: &NodeKind) -> Option<String> {
    match kind {
        NodeKind::Http { request, .. } => {
            let m = request.method.to_ascii_uppercase();
            (m != "GET" && m != "HEAD").then(|| {
                format!(
                    "this sends a {m} to {}; the receiver may act on it",
                    request.url
                )
            })
        }
        _ => None,
    }
}

/// Whether a step of this kind can be tested; a step with a side effect
/// only once the person `confirmed` it.
pub fn may_test(kind: &NodeKind, confirmed: bool) -> Result<(), String> {
    match kind {
        NodeKind::Approval(_) => Err(
            "an Approval step waits for people; it cannot be tested on its own (start a test run)"
                .into(),
        ),
        NodeKind::Delay { .. } => Err("a Delay step only waits; there is nothing to test".into()),
        NodeKind::Start { .. } => {
            Err("the Start step passes the run input on; there is nothing to test".into())
        }
        kind => match side_effect(kind) {
            Some(what) if !confirmed => Err(format!("{what}: confirm to send it")),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::graph::HttpRequest;

    fn http(method: &str) -> NodeKind {
        NodeKind::Http {
            request: HttpRequest {
                method: method.into(),
                url: "https://ledger.example.com/entries".into(),
                headers: Default::default(),
                body: None,
            },
            response_schema: None,
        }
    }

    #[test]
    fn reading_steps_test_at_once_writing_ones_ask_first_waiting_ones_not_at_all() {
        assert_eq!(may_test(&http("GET"), false), Ok(()));
        assert_eq!(may_test(&http("head"), false), Ok(()));
        let e = may_test(&http("POST"), false).unwrap_err();
        assert_eq!(
            e,
            "this sends a POST to https://ledger.example.com/entries; the receiver may act on it: confirm to send it"
        );
        assert_eq!(may_test(&http("POST"), true), Ok(()));
        let transform = NodeKind::Transform {
            expression: ".input".into(),
        };
        assert_eq!(may_test(&transform, false), Ok(()));
        assert!(may_test(&NodeKind::Delay { duration_ms: 5 }, true).is_err());
        let start = NodeKind::Start { input_schema: None };
        assert!(
            may_test(&start, true)
                .unwrap_err()
                .contains("nothing to test")
        );
    }
}
