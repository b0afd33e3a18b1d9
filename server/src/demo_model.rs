//! A stand-in model under `/demo/v1/chat/completions` (with `--demo` only),
//! so the "Support ticket triage" example runs on a fresh install with no
//! model server: an OpenAI-compatible endpoint that answers by counting
//! words, not by thinking. It classifies by how many of each label's words
//! (name and description) the ticket uses, with log-probabilities from a
//! softmax over those counts (a ticket that fits two labels gets a doubtful
//! answer); it fills an extract schema's fields from `name: value` lines;
//! it drafts a fixed-form reply. Point a connection at a real server
//! (OpenAI, Ollama, llama.cpp) for real answers.

use axum::response::IntoResponse;
use serde_json::{Value, json};

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect()
}

fn message<'a>(body: &'a Value, role: &str) -> &'a str {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == role))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
}

/// `- name: description` lines after the classify instruction.
fn labels(system: &str) -> Vec<(String, String)> {
    system
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|l| match l.split_once(": ") {
            Some((n, d)) => (n.trim().to_string(), d.trim().to_string()),
            None => (l.trim().to_string(), String::new()),
        })
        .take(50)
        .collect()
}

/// The label, its reason, and every label's probability.
fn classify(system: &str, user: &str) -> (String, String, Vec<(String, f64)>) {
    let said = words(user);
    let scored: Vec<(String, usize, Option<String>)> = labels(system)
        .into_iter()
        .map(|(name, description)| {
            let hits: Vec<String> = words(&format!("{name} {description}"))
                .into_iter()
                .filter(|w| said.contains(w))
                .collect();
            (name, hits.len(), hits.first().cloned())
        })
        .collect();
    let total: f64 = scored.iter().map(|(_, h, _)| (2.0 * *h as f64).exp()).sum();
    let probs: Vec<(String, f64)> = scored
        .iter()
        .map(|(n, h, _)| (n.clone(), (2.0 * *h as f64).exp() / total))
        .collect();
    let best = scored
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, h, _))| (*h, usize::MAX - i))
        .map(|(_, s)| s.clone());
    match best {
        Some((name, _, Some(word))) => (name, format!("The ticket mentions \"{word}\"."), probs),
        Some((name, _, None)) => (
            name,
            "Nothing in the ticket points elsewhere.".into(),
            probs,
        ),
        None => ("unknown".into(), String::new(), probs),
    }
}

/// Fills the schema's top-level properties from `name: value` lines.
fn extract(schema: &Value, user: &str) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(props) = schema["properties"].as_object() {
        for (name, spec) in props.iter().take(100) {
            let found = user.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_string())
            });
            let value = match (found, spec["type"].as_str()) {
                (Some(v), Some("number" | "integer")) => v
                    .replace(',', ".")
                    .parse::<f64>()
                    .map(|n| json!(n))
                    .unwrap_or(Value::Null),
                (Some(v), _) => json!(v),
                (None, _) => Value::Null,
            };
            out.insert(name.clone(), value);
        }
    }
    Value::Object(out)
}

fn draft(user: &str) -> String {
    let gist: String = user
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .chars()
        .take(160)
        .collect();
    format!(
        "Dear customer,\n\nThank you for writing to us. We have looked into your message (\"{}\") and taken care of it. You will see the result within three working days.\n\nKind regards,\nCustomer support",
        gist.trim()
    )
}

/// One token per word (and space), each with probability `p`.
fn tokens(text: &str, p: f64) -> Vec<Value> {
    text.split_inclusive(' ')
        .map(|t| json!({"token": t, "logprob": p.ln(), "top_logprobs": [{"token": t, "logprob": p.ln()}]}))
        .collect()
}

pub async fn chat(body: axum::body::Bytes) -> impl IntoResponse {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {"message": "the request is not JSON"}})),
        );
    };
    let (system, user) = (message(&body, "system"), message(&body, "user"));
    let logprobs = body["logprobs"] == true;
    let (content, lp) = if system.contains("Classify the input as exactly one of these labels") {
        let (label, reason, probs) = classify(system, user);
        let p = probs
            .iter()
            .find(|(n, _)| *n == label)
            .map_or(1.0, |(_, p)| *p);
        let top: Vec<Value> = probs
            .iter()
            .map(|(n, q)| json!({"token": n, "logprob": q.max(1e-12).ln()}))
            .collect();
        let mut lp =
            vec![json!({"token": label, "logprob": p.max(1e-12).ln(), "top_logprobs": top})];
        lp.push(json!({"token": "\n", "logprob": 0.0, "top_logprobs": []}));
        lp.extend(tokens(&reason, 0.95));
        (format!("{label}\n{reason}"), lp)
    } else if let Some(schema) = body.pointer("/response_format/json_schema/schema") {
        let text = extract(schema, user).to_string();
        let lp = tokens(&text, 0.97);
        (text, lp)
    } else {
        let text = draft(user);
        let lp = tokens(&text, 0.93);
        (text, lp)
    };
    let n = body["n"].as_u64().unwrap_or(1).clamp(1, 10);
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            let mut c = json!({"index": i, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"});
            if logprobs {
                c["logprobs"] = json!({"content": lp});
            }
            c
        })
        .collect();
    let prompt_tokens = words(&format!("{system} {user}")).len() as u64 + 8;
    let completion_tokens = (content.split_whitespace().count() as u64) * n;
    (
        axum::http::StatusCode::OK,
        axum::Json(json!({
            "id": "demo", "object": "chat.completion", "model": body["model"],
            "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: &str = "Classify the input as exactly one of these labels:\n- refund: the customer wants their money back\n- billing: a question about an invoice or a charge\n- other: anything else";

    #[test]
    fn a_clear_ticket_is_sure_and_one_that_fits_two_labels_is_not() {
        let (label, reason, probs) = classify(SYSTEM, "Please refund my money, the product broke.");
        assert_eq!(label, "refund");
        assert!(
            reason.contains("refund") || reason.contains("money"),
            "{reason}"
        );
        let p = probs[0].1;
        assert!(p > 0.9, "{probs:?}");
        let (_, _, probs) = classify(SYSTEM, "I want my money back for the invoice charge");
        assert!(probs.iter().all(|(_, p)| *p < 0.8), "{probs:?}");
    }

    #[test]
    fn extract_fills_fields_from_name_value_lines() {
        let schema = json!({"properties": {"total": {"type": "number"}, "vendor": {"type": "string"}, "po": {}}});
        let v = extract(&schema, "Vendor: ACME\ntotal: 12,50\n");
        assert_eq!(v, json!({"total": 12.5, "vendor": "ACME", "po": null}));
    }
}
