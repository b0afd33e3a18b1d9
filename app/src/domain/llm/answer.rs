//! From the step's settings to the conversation, and from the model's
//! answers to the step's output, confidence and port.

use super::confidence::{self, Method, TokenLogprob, normal};
use super::wire::Message;
use crate::domain::graph::{ConfidenceMethod, LlmConfig, LlmMode, PORT_OUT, PORT_UNCERTAIN};
use serde_json::{Value, json};

/// The conversation for the rendered prompts: the author's system prompt
/// with what the mode needs the model to know.
pub fn messages(cfg: &LlmConfig, system: &str, prompt: &str) -> Vec<Message> {
    let mut sys = system.trim().to_string();
    let add = |sys: &mut String, text: String| {
        if !sys.is_empty() {
            sys.push_str("\n\n");
        }
        sys.push_str(&text);
    };
    match cfg.mode {
        LlmMode::Classify => {
            let list: Vec<String> = cfg
                .labels
                .iter()
                .map(|l| match l.description.trim() {
                    "" => format!("- {}", l.name),
                    d => format!("- {}: {d}", l.name),
                })
                .collect();
            add(
                &mut sys,
                format!(
                    "Classify the input as exactly one of these labels:\n{}\n\nAnswer with the label alone on the first line, written exactly as above. On the second line, say in one short sentence why.",
                    list.join("\n")
                ),
            );
        }
        LlmMode::Extract => {
            let schema = cfg
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"}));
            add(
                &mut sys,
                format!(
                    "Extract the information as one JSON object that matches this JSON Schema:\n{schema}\n\nAnswer with the JSON object only."
                ),
            );
        }
        LlmMode::Generate if cfg.json => add(&mut sys, "Answer with JSON only.".into()),
        LlmMode::Generate => {}
    }
    let mut out = vec![];
    if !sys.is_empty() {
        out.push(Message::new("system", sys));
    }
    out.push(Message::new("user", prompt));
    out
}

/// One sample's answer as read: its value (a label, JSON, or text), the
/// model's reason (classify), and its tokens' log-probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub value: Value,
    pub reason: Option<String>,
    pub tokens: Option<Vec<TokenLogprob>>,
}

/// The longest reason kept, in characters.
const MAX_REASON_CHARS: usize = 1000;

/// Text without a Markdown code fence around it.
fn unfenced(s: &str) -> &str {
    let t = s.trim();
    let Some(inner) = t.strip_prefix("```") else {
        return t;
    };
    let inner = inner.trim_end().strip_suffix("```").unwrap_or(inner);
    // the fence's language tag
    match inner.find('\n') {
        Some(nl) if !inner[..nl].contains(['{', '[']) => inner[nl + 1..].trim(),
        _ => inner.trim(),
    }
}

/// Reads one answer's text for the step's mode; a text that is not an
/// answer of that mode is said (a `format` error the model may fix).
pub fn read(
    cfg: &LlmConfig,
    content: &str,
    tokens: Option<Vec<TokenLogprob>>,
) -> Result<Answer, String> {
    match cfg.mode {
        LlmMode::Classify => {
            let mut lines = content.trim().lines();
            let first = lines.next().unwrap_or("");
            let said = normal(first);
            let Some(label) = cfg.labels.iter().find(|l| normal(&l.name) == said) else {
                let names: Vec<&str> = cfg.labels.iter().map(|l| l.name.as_str()).collect();
                let shown: String = first.chars().take(80).collect();
                return Err(format!(
                    "the model answered '{shown}', which is not one of the labels ({}); answer with one of them on the first line",
                    names.join(", ")
                ));
            };
            let reason: String = lines
                .collect::<Vec<_>>()
                .join(" ")
                .trim()
                .chars()
                .take(MAX_REASON_CHARS)
                .collect();
            Ok(Answer {
                value: json!(label.name),
                reason: (!reason.is_empty()).then_some(reason),
                tokens,
            })
        }
        LlmMode::Extract => {
            let v: Value = serde_json::from_str(unfenced(content)).map_err(|e| {
                format!("the answer is not JSON ({e}); answer with the JSON object only")
            })?;
            if !v.is_object() {
                return Err("the answer is not a JSON object; answer with one JSON object".into());
            }
            Ok(Answer {
                value: v,
                reason: None,
                tokens,
            })
        }
        LlmMode::Generate if cfg.json => {
            let v: Value = serde_json::from_str(unfenced(content))
                .map_err(|e| format!("the answer is not JSON ({e}); answer with JSON only"))?;
            Ok(Answer {
                value: v,
                reason: None,
                tokens,
            })
        }
        LlmMode::Generate => Ok(Answer {
            value: json!(content.trim()),
            reason: None,
            tokens,
        }),
    }
}

/// What the step ends with.
#[derive(Clone, Debug, PartialEq)]
pub struct Concluded {
    pub output: Value,
    pub confidence: Option<f64>,
    pub method: Option<Method>,
    pub port: String,
}

/// What the step needs before it can conclude.
#[derive(Clone, Debug, PartialEq)]
pub enum Need {
    /// This many more samples (to measure agreement).
    Samples(u32),
    /// It cannot conclude: the reason, for the author.
    Unmeasurable(String),
}

/// A measurement: the chosen answer's index, its confidence, each label's
/// share (classify), and the method.
type Measure = (usize, f64, Option<Vec<f64>>, Method);

/// The step's output from its answers (the first is the answer asked for;
/// the rest are samples). `threshold`: the step's confidence threshold
/// (its own, else the workflow's); `uncertain_connected`: whether its
/// `uncertain` port leads anywhere.
pub fn conclude(
    cfg: &LlmConfig,
    model: &str,
    answers: &[Answer],
    threshold: Option<f64>,
    uncertain_connected: bool,
) -> Result<Concluded, Need> {
    let first = answers.first().ok_or(Need::Samples(1))?;
    let labels: Vec<String> = cfg.labels.iter().map(|l| l.name.clone()).collect();
    let by_logprobs = || -> Option<Measure> {
        let tokens = first.tokens.as_ref()?;
        if cfg.mode == LlmMode::Classify {
            let chosen = labels
                .iter()
                .position(|l| Some(l.as_str()) == first.value.as_str())?;
            let scores = confidence::label_scores(&labels, chosen, tokens)?;
            Some((0, scores[chosen], Some(scores), Method::LabelLogprobs))
        } else {
            let c = confidence::token_confidence(tokens)?;
            Some((0, c, None, Method::TokenLogprobs))
        }
    };
    let wanted = cfg.samples().max(2) as usize;
    let by_agreement = || -> Result<Measure, Need> {
        if answers.len() < wanted {
            return Err(Need::Samples((wanted - answers.len()) as u32));
        }
        let values: Vec<Value> = answers.iter().map(|a| a.value.clone()).collect();
        let free_text = cfg.mode == LlmMode::Generate && !cfg.json;
        let (i, c) = confidence::agreement(&values, free_text).ok_or(Need::Samples(1))?;
        let scores = (cfg.mode == LlmMode::Classify).then(|| {
            labels
                .iter()
                .map(|l| {
                    values.iter().filter(|v| v.as_str() == Some(l)).count() as f64
                        / values.len() as f64
                })
                .collect()
        });
        Ok((i, c, scores, Method::SampleAgreement))
    };
    let measured = match cfg.confidence {
        ConfidenceMethod::None => None,
        ConfidenceMethod::Logprobs => Some(by_logprobs().ok_or_else(|| {
            Need::Unmeasurable(
                "the server gave no usable log-probabilities; set the step's confidence to agreement across samples".into(),
            )
        })?),
        ConfidenceMethod::Agreement => Some(by_agreement()?),
        ConfidenceMethod::Auto => match by_logprobs() {
            Some(m) => Some(m),
            None => Some(by_agreement()?),
        },
    };
    let (chosen, confidence, scores, method) = match measured {
        Some((i, c, s, m)) => (i, Some(c), s, Some(m)),
        None => (0, None, None, None),
    };
    let answer = &answers[chosen];
    let mut output = match cfg.mode {
        LlmMode::Classify => json!({"label": answer.value, "reason": answer.reason}),
        LlmMode::Extract => json!({"data": answer.value}),
        LlmMode::Generate if cfg.json => json!({"data": answer.value}),
        LlmMode::Generate => json!({"text": answer.value}),
    };
    output["confidence"] = json!(confidence);
    output["method"] = json!(method.map(Method::as_str));
    output["model"] = json!(model);
    if let Some(s) = scores {
        output["scores"] = labels
            .iter()
            .cloned()
            .zip(s.into_iter().map(|x| json!(x)))
            .collect();
    }
    if method == Some(Method::SampleAgreement) {
        output["samples"] = json!(answers.len());
    }
    let port = match cfg.mode {
        LlmMode::Classify => {
            let low = matches!((confidence, threshold), (Some(c), Some(t)) if c < t);
            if low && uncertain_connected {
                PORT_UNCERTAIN.to_string()
            } else {
                answer.value.as_str().unwrap_or(PORT_OUT).to_string()
            }
        }
        _ => PORT_OUT.to_string(),
    };
    Ok(Concluded {
        output,
        confidence,
        method,
        port,
    })
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
