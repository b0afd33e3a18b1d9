//! What an LLM step's attempt sent and received: the connection and model,
//! the confidence and how it was measured, tokens, cost and time, the
//! conversation as sent and the raw answers. Shown by "Test step" and on
//! the run page.

use crate::domain::lineage::Lineage;
use crate::domain::llm::{Method, ModelCall};
use leptos::prelude::*;

/// "0.620, measured by log-probabilities of the label".
pub fn confidence_text(confidence: Option<f64>, method: Option<&str>) -> String {
    let how = method
        .and_then(|m| serde_json::from_value::<Method>(serde_json::json!(m)).ok())
        .map(Method::describe);
    match (confidence, how) {
        (Some(c), Some(how)) => format!("Confidence {c:.3}, measured by {how}"),
        (Some(c), None) => format!("Confidence {c:.3}"),
        (None, _) => "Confidence not measured".into(),
    }
}

/// "1,234 tokens in, 56 out · 2 requests · 840 ms · cost ≈ 0.0012".
pub fn usage_text(tokens_in: u64, tokens_out: u64, requests: u64, cost: Option<f64>) -> String {
    let mut s = format!(
        "{tokens_in} tokens in, {tokens_out} out · {requests} request{}",
        if requests == 1 { "" } else { "s" }
    );
    if let Some(c) = cost {
        s.push_str(&format!(" · cost ≈ {c:.4}"));
    }
    s
}

/// Where an output came from, in a line: "Input SHA-256 1a2b3c4d5e6f ·
/// model gpt-4o-mini via openai · prompt SHA-256 9f8e7d6c5b4a".
pub fn lineage_line(l: &Lineage) -> String {
    let short = |h: &str| h.chars().take(12).collect::<String>();
    let mut s = format!("Input SHA-256 {}", short(&l.input_sha256));
    if let Some(m) = &l.model {
        s.push_str(&format!(" · model {m}"));
        if let Some(c) = &l.connection {
            s.push_str(&format!(" via {c}"));
        }
    }
    if let Some(p) = &l.prompt_sha256 {
        s.push_str(&format!(" · prompt SHA-256 {}", short(p)));
    }
    s
}

#[component]
pub fn ModelCallView(call: ModelCall) -> impl IntoView {
    let usage = format!(
        "{} · {} ms",
        usage_text(
            call.tokens_in,
            call.tokens_out,
            call.requests as u64,
            call.cost
        ),
        call.latency_ms
    );
    let confidence = confidence_text(call.confidence, call.method.as_deref());
    let messages = call
        .messages
        .iter()
        .map(|m| {
            view! {
                <div class="message">
                    <strong>{m.role.clone()}</strong>
                    <pre>{m.content.clone()}</pre>
                </div>
            }
        })
        .collect_view();
    let answers = call
        .responses
        .iter()
        .map(|r| serde_json::to_string_pretty(r).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n\n");
    view! {
        <div class="model-call" data-testid="model-call">
            <p><strong>{format!("{} · {}", call.connection, call.model)}</strong></p>
            <p data-testid="llm-confidence">{confidence}</p>
            <p class="muted" data-testid="llm-usage">{usage}</p>
            <details>
                <summary>"Prompt sent"</summary>
                {messages}
            </details>
            <details>
                <summary>"Raw answer"</summary>
                <pre class="raw">{answers}</pre>
            </details>
            <p class="muted small">{format!("Prompt template SHA-256 {}", call.prompt_sha256)}</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_and_usage_read_as_sentences() {
        assert_eq!(
            confidence_text(Some(0.62), Some("label_logprobs")),
            "Confidence 0.620, measured by log-probabilities of the label"
        );
        assert_eq!(
            confidence_text(Some(2.0 / 3.0), Some("sample_agreement")),
            "Confidence 0.667, measured by agreement across samples"
        );
        assert_eq!(confidence_text(None, None), "Confidence not measured");
        assert_eq!(
            usage_text(120, 4, 1, Some(0.000128)),
            "120 tokens in, 4 out · 1 request · cost ≈ 0.0001"
        );
        assert_eq!(
            usage_text(10, 2, 3, None),
            "10 tokens in, 2 out · 3 requests"
        );
        let l = Lineage {
            input_sha256: "a".repeat(64),
            reads: vec![],
            connection: Some("local".into()),
            model: Some("m1".into()),
            prompt_sha256: Some("b".repeat(64)),
        };
        assert_eq!(
            lineage_line(&l),
            "Input SHA-256 aaaaaaaaaaaa · model m1 via local · prompt SHA-256 bbbbbbbbbbbb"
        );
    }
}
