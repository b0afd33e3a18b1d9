//! The chat-completions wire format, as far as Stepwise speaks it: the
//! request a step sends, the answer it reads, and the record each attempt
//! keeps of its calls.

use super::confidence::TokenLogprob;
use crate::domain::graph::{LlmConfig, LlmMode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// The most alternatives asked per token (OpenAI's limit).
pub const MAX_TOP_LOGPROBS: usize = 20;

/// The request body: `n` answers, with log-probabilities when `logprobs`.
pub fn request_body(
    cfg: &LlmConfig,
    model: &str,
    messages: &[Message],
    n: u32,
    logprobs: bool,
) -> Value {
    let mut body = json!({"model": model, "messages": messages});
    if n > 1 {
        body["n"] = json!(n);
    }
    if let Some(t) = cfg.temperature {
        body["temperature"] = json!(t);
    } else if n > 1 {
        // samples at temperature 0 always agree and would measure nothing
        body["temperature"] = json!(1.0);
    }
    if let Some(m) = cfg.max_tokens {
        body["max_tokens"] = json!(m);
    }
    if logprobs {
        body["logprobs"] = json!(true);
        if cfg.mode == LlmMode::Classify {
            let top = (cfg.labels.len() + 2).clamp(5, MAX_TOP_LOGPROBS);
            body["top_logprobs"] = json!(top);
        }
    }
    match cfg.mode {
        LlmMode::Extract => {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {
                    "name": "extraction",
                    "schema": cfg.schema.clone().unwrap_or_else(|| json!({"type": "object"})),
                },
            });
        }
        LlmMode::Generate if cfg.json => {
            body["response_format"] = json!({"type": "json_object"});
        }
        _ => {}
    }
    body
}

/// One answer of a completion: its text and, when the server gave them,
/// its tokens' log-probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub content: String,
    pub tokens: Option<Vec<TokenLogprob>>,
}

/// What a completion gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub choices: Vec<Choice>,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// Reads a chat-completions answer; what is missing or malformed is said.
pub fn parse_completion(body: &Value) -> Result<Completion, String> {
    let choices = body
        .get("choices")
        .and_then(Value::as_array)
        .ok_or("the answer has no 'choices' list; is the base URL an OpenAI-compatible API?")?;
    if choices.is_empty() {
        return Err("the answer's 'choices' list is empty".into());
    }
    let mut out = vec![];
    for c in choices {
        let message = c.get("message").unwrap_or(&Value::Null);
        let content = match message.get("content") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                let refusal = message
                    .get("refusal")
                    .and_then(Value::as_str)
                    .map(|r| format!(": the model refused: {r}"))
                    .unwrap_or_default();
                return Err(format!("an answer has no text content{refusal}"));
            }
        };
        let tokens = c
            .get("logprobs")
            .and_then(|l| l.get("content"))
            .and_then(Value::as_array)
            .map(|ts| ts.iter().filter_map(token).collect::<Vec<_>>())
            .filter(|ts| !ts.is_empty());
        out.push(Choice { content, tokens });
    }
    let usage = |k: &str| {
        body.get("usage")
            .and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Ok(Completion {
        choices: out,
        tokens_in: usage("prompt_tokens"),
        tokens_out: usage("completion_tokens"),
    })
}

fn token(t: &Value) -> Option<TokenLogprob> {
    let logprob = t
        .get("logprob")?
        .as_f64()
        .filter(|l| l.is_finite() && *l <= 0.0)?;
    let top = t
        .get("top_logprobs")
        .and_then(Value::as_array)
        .map(|top| {
            top.iter()
                .filter_map(|a| {
                    let lp = a
                        .get("logprob")?
                        .as_f64()
                        .filter(|l| l.is_finite() && *l <= 0.0)?;
                    Some((a.get("token")?.as_str()?.to_string(), lp))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(TokenLogprob {
        token: t.get("token")?.as_str()?.to_string(),
        logprob,
        top,
    })
}

/// What one attempt of an LLM step sent and got: shown on the run page and
/// summed into the run's tokens and cost. Secrets are masked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ModelCall {
    pub connection: String,
    pub model: String,
    /// The conversation as sent (the last request's, with any correction).
    pub messages: Vec<Message>,
    /// The raw answers, in order (each cut to a bound).
    pub responses: Vec<Value>,
    pub requests: u32,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// `label_logprobs`, `token_logprobs` or `sample_agreement`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// SHA-256 of the step's prompt templates (system and user, unrendered).
    pub prompt_sha256: String,
}

/// The longest raw answer kept in a record, in bytes of JSON.
pub const MAX_KEPT_RESPONSE: usize = 64 * 1024;

/// A raw answer as a record keeps it: past the bound, a note and its start.
pub fn kept(response: Value) -> Value {
    let text = response.to_string();
    if text.len() <= MAX_KEPT_RESPONSE {
        return response;
    }
    let mut cut = MAX_KEPT_RESPONSE;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    json!({"cut": format!("the answer was {} KB; its first {} KB are kept", text.len() / 1024, MAX_KEPT_RESPONSE / 1024), "start": &text[..cut]})
}
