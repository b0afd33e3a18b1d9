//! Asks a model through an OpenAI-compatible chat-completions endpoint:
//! the prompts rendered in the sandbox, the mode's instructions added,
//! the answer read and checked (an answer that is not a label, or does not
//! match the schema, is said to the model once and asked again), more
//! samples when the confidence is measured by agreement, and a record of
//! every request (prompt, raw answers, tokens, time, cost) for the run
//! page. The API key is masked in everything kept or shown.
//!
//! Errors by class: no answer in time, 408, 429 and 5xx are transient (the
//! next attempt waits at least as long as `Retry-After` asks); other 4xx
//! are business errors; an answer that cannot be read is a format error.

use super::http::{describe, read_capped, retry_after};
use super::{Attempt, OpenSecret, Outcome, sandbox_failure};
use crate::sandbox::{Job, Request};
use app::domain::graph::{ErrorClass, LlmConfig, MAX_SAMPLES};
use app::domain::lineage::Lineage;
use app::domain::llm::ModelConnection;
use app::domain::llm::answer::{self, Answer, Need};
use app::domain::llm::wire::{self, Completion, Message, ModelCall};
use app::domain::redact::{redact, redact_str, variants};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The connection a step uses and its API key, opened for this attempt.
pub struct Model<'a> {
    pub connection: &'a ModelConnection,
    pub key: Option<&'a OpenSecret>,
}

/// What decides a classify step's port besides its label.
#[derive(Clone, Copy, Debug, Default)]
pub struct Route {
    /// The step's confidence threshold (its own, else the workflow's).
    pub threshold: Option<f64>,
    /// Whether its `uncertain` port leads anywhere.
    pub uncertain_connected: bool,
}

/// Asks the model; the outcome and what was sent and received.
pub async fn run(
    a: &Attempt<'_>,
    cfg: &LlmConfig,
    model: &Model<'_>,
    route: Route,
) -> (Outcome, ModelCall) {
    let mut call = ModelCall {
        connection: model.connection.name.clone(),
        model: model.connection.model.clone(),
        prompt_sha256: Lineage::prompt_hash(cfg),
        ..ModelCall::default()
    };
    let outcome = match talk(a, cfg, model, route, &mut call).await {
        Ok(o) | Err(o) => o,
    };
    call.cost = model.connection.cost(call.tokens_in, call.tokens_out);
    let masks: Vec<String> = model.key.map(|k| variants(&k.value)).unwrap_or_default();
    let masks: Vec<&str> = masks.iter().map(String::as_str).collect();
    for m in &mut call.messages {
        m.content = redact_str(&m.content, &masks);
    }
    for r in &mut call.responses {
        redact(r, &masks);
    }
    let outcome = outcome.masked(&masks);
    if let Outcome::Done {
        output, confidence, ..
    } = &outcome
    {
        call.confidence = *confidence;
        call.method = output["method"].as_str().map(str::to_string);
    }
    (outcome, call)
}

fn failed(class: ErrorClass, message: impl Into<String>) -> Outcome {
    Outcome::fail(class, message)
}

/// The step's prompts rendered over the run context, in the sandbox.
async fn render(a: &Attempt<'_>, cfg: &LlmConfig) -> Result<(String, String), Outcome> {
    let jobs = vec![Job::template(&cfg.system), Job::template(&cfg.prompt)];
    let results = a
        .sandbox
        .run(&Request::over(a.context, jobs))
        .await
        .map_err(sandbox_failure)?;
    let mut texts = vec![];
    for (what, r) in ["system prompt", "prompt"].iter().zip(results) {
        match r {
            Ok(Value::String(s)) => texts.push(s),
            Ok(other) => texts.push(other.to_string()),
            Err(e) => return Err(failed(ErrorClass::Format, format!("{what}: {e}"))),
        }
    }
    let prompt = texts.pop().unwrap_or_default();
    let system = texts.pop().unwrap_or_default();
    Ok((system, prompt))
}

/// An answer read for the mode and, for extract, checked against the
/// schema.
fn read_checked(
    cfg: &LlmConfig,
    content: &str,
    tokens: Option<Vec<app::domain::llm::TokenLogprob>>,
) -> Result<Answer, String> {
    let a = answer::read(cfg, content, tokens)?;
    if let (app::domain::graph::LlmMode::Extract, Some(schema)) = (cfg.mode, &cfg.schema)
        && let Err(problems) = app::schema::check(schema, &a.value)
    {
        return Err(format!(
            "the answer does not match the schema: {}",
            problems.join("; ")
        ));
    }
    Ok(a)
}

async fn talk(
    a: &Attempt<'_>,
    cfg: &LlmConfig,
    model: &Model<'_>,
    route: Route,
    call: &mut ModelCall,
) -> Result<Outcome, Outcome> {
    // a schema no answer can match is the author's to fix, before any
    // tokens are spent on it
    if let (app::domain::graph::LlmMode::Extract, Some(schema)) = (cfg.mode, &cfg.schema)
        && let Err(why) = app::schema::valid(schema)
    {
        return Err(failed(
            ErrorClass::Business,
            format!("the step's schema: {why}"),
        ));
    }
    let (system, prompt) = render(a, cfg).await?;
    let mut messages = answer::messages(cfg, &system, &prompt);
    call.messages = messages.clone();
    let mut logprobs = matches!(
        cfg.confidence,
        app::domain::graph::ConfidenceMethod::Auto | app::domain::graph::ConfidenceMethod::Logprobs
    );
    let mut n = match cfg.confidence {
        app::domain::graph::ConfidenceMethod::Agreement => cfg.samples(),
        _ => 1,
    };
    let mut answers: Vec<Answer> = vec![];
    let mut corrected = false;
    let mut invalid = 0;
    for _ in 0..MAX_SAMPLES + 3 {
        let body = wire::request_body(
            cfg,
            &model.connection.model,
            &messages,
            n,
            logprobs && answers.is_empty(),
        );
        let completion = match ask(a, model, &body, call).await {
            Ok(c) => c,
            // a server (or model) that does not do log-probabilities:
            // `auto` measures agreement instead
            Err(r)
                if r.logprobs_refused
                    && cfg.confidence == app::domain::graph::ConfidenceMethod::Auto
                    && body.get("logprobs").is_some() =>
            {
                logprobs = false;
                continue;
            }
            Err(r) => return Err(r.outcome),
        };
        for choice in completion.choices.into_iter().take(n as usize) {
            match read_checked(cfg, &choice.content, choice.tokens) {
                Ok(answer) => answers.push(answer),
                Err(why) if answers.is_empty() && !corrected => {
                    // the answer asked for is not one: say why, once
                    corrected = true;
                    messages.push(Message::new("assistant", choice.content));
                    messages.push(Message::new(
                        "user",
                        format!("That answer is not valid: {why}. Answer again, following the instructions exactly."),
                    ));
                    call.messages = messages.clone();
                    break;
                }
                Err(why) if answers.is_empty() => {
                    return Err(failed(ErrorClass::Format, why));
                }
                Err(_) => {
                    // a sample that is no answer disagrees with every answer
                    invalid += 1;
                    answers.push(Answer {
                        value: json!({ "invalid_sample": invalid }),
                        reason: None,
                        tokens: None,
                    });
                }
            }
        }
        if answers.is_empty() {
            continue;
        }
        match answer::conclude(
            cfg,
            &model.connection.model,
            &answers,
            route.threshold,
            route.uncertain_connected,
        ) {
            Ok(c) => {
                return Ok(Outcome::Done {
                    output: c.output,
                    confidence: c.confidence,
                    port: c.port,
                });
            }
            Err(Need::Samples(k)) => n = k.min(MAX_SAMPLES),
            Err(Need::Unmeasurable(why)) => return Err(failed(ErrorClass::Business, why)),
        }
    }
    Err(failed(
        ErrorClass::Format,
        format!(
            "the model server gave {} usable answers after {} requests; it may not support several answers (n)",
            answers.len(),
            call.requests
        ),
    ))
}

/// What a refusing server said: its `error.message`, or its text, short.
fn said(body: &Value) -> String {
    let text = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| match body {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text
    }
}

/// Why a request gave no completion; `logprobs_refused`: a 400 that names
/// log-probabilities.
struct Refused {
    outcome: Outcome,
    logprobs_refused: bool,
}

impl From<Outcome> for Refused {
    fn from(outcome: Outcome) -> Refused {
        Refused {
            outcome,
            logprobs_refused: false,
        }
    }
}

/// One request; its answer read as a completion.
async fn ask(
    a: &Attempt<'_>,
    model: &Model<'_>,
    body: &Value,
    call: &mut ModelCall,
) -> Result<Completion, Refused> {
    let conn = model.connection;
    let url = conn.endpoint();
    let mut req = a
        .outbound
        .models
        .post(&url)
        .timeout(Duration::from_millis(conn.timeout_ms))
        .json(body);
    if let Some(k) = model.key {
        req = req.bearer_auth(&k.value);
    }
    call.requests += 1;
    let started = Instant::now();
    let sent = req.send().await;
    let res = match sent {
        Ok(r) => r,
        Err(e) => {
            call.latency_ms += started.elapsed().as_millis() as u64;
            let why = if e.is_timeout() {
                format!(
                    "the model server did not answer within {} ms",
                    conn.timeout_ms
                )
            } else {
                format!("could not reach the model server at {url}: {}", describe(e))
            };
            return Err(failed(ErrorClass::Transient, why).into());
        }
    };
    let status = res.status();
    let wait = retry_after(res.headers());
    let bytes = read_capped(res, a.outbound.max_response_bytes).await;
    call.latency_ms += started.elapsed().as_millis() as u64;
    let bytes = bytes.map_err(Refused::from)?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed: Option<Value> = serde_json::from_str(&text).ok();
    let shown = parsed
        .clone()
        .unwrap_or_else(|| Value::String(text.to_string()));
    call.responses.push(wire::kept(shown.clone()));
    if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
        return Err(Outcome::Failed {
            class: ErrorClass::Transient,
            message: format!("the model server answered {status}: {}", said(&shown)),
            retry_after_ms: wait,
        }
        .into());
    }
    if status.is_redirection() {
        return Err(failed(
            ErrorClass::Business,
            format!(
                "the model server answered {status} (a redirect, which model connections do not follow); check the connection's base URL, it ends before /chat/completions (e.g. https://api.openai.com/v1)"
            ),
        )
        .into());
    }
    if !status.is_success() {
        let why = said(&shown);
        return Err(Refused {
            logprobs_refused: status.as_u16() == 400 && why.to_lowercase().contains("logprob"),
            outcome: failed(
                ErrorClass::Business,
                format!("the model server refused the request ({status}): {why}"),
            ),
        });
    }
    let Some(body) = parsed else {
        return Err(failed(ErrorClass::Format, "the model server's answer is not JSON").into());
    };
    let completion =
        wire::parse_completion(&body).map_err(|e| Refused::from(failed(ErrorClass::Format, e)))?;
    call.tokens_in += completion.tokens_in;
    call.tokens_out += completion.tokens_out;
    Ok(completion)
}
