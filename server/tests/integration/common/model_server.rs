//! A local OpenAI-compatible chat-completions server standing in for a
//! model (no weights can be downloaded here): it keeps every request (its
//! body and `Authorization` header) for the test to check, and answers as
//! the test's script says: completions with log-probabilities and usage,
//! errors with `Retry-After`, or text that is not JSON. The client code
//! under test is the real one.

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with this body.
    Ok(Value),
    /// This status and body, with `Retry-After` if given.
    Status(u16, Value, Option<&'static str>),
    /// 200 with this text as the body (not JSON).
    Raw(&'static str),
}

#[derive(Clone, Debug)]
pub struct Seen {
    pub body: Value,
    pub authorization: Option<String>,
}

pub struct ModelServer {
    /// `http://127.0.0.1:<port>/v1`
    pub base_url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl ModelServer {
    /// Answers request number `n` (from 0) with `script(n, body)`.
    pub async fn start(
        script: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static,
    ) -> ModelServer {
        let script = Arc::new(script);
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let s = seen.clone();
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (s, script) = (s.clone(), script.clone());
                async move {
                    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    let n = {
                        let mut s = s.lock().unwrap();
                        s.push(Seen {
                            body: body.clone(),
                            authorization: headers
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string),
                        });
                        s.len() - 1
                    };
                    let mut out = HeaderMap::new();
                    out.insert("content-type", "application/json".parse().unwrap());
                    match script(n, &body) {
                        Reply::Ok(v) => (StatusCode::OK, out, v.to_string()),
                        Reply::Status(code, v, wait) => {
                            if let Some(w) = wait {
                                out.insert("retry-after", w.parse().unwrap());
                            }
                            (StatusCode::from_u16(code).unwrap(), out, v.to_string())
                        }
                        Reply::Raw(text) => (StatusCode::OK, out, text.to_string()),
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        ModelServer {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            seen,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A completion whose answers are `contents`, with `usage` tokens in/out.
pub fn completion(contents: &[&str], usage: (u64, u64)) -> Value {
    let choices: Vec<Value> = contents
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"index": i, "message": {"role": "assistant", "content": c}, "finish_reason": "stop"}))
        .collect();
    json!({"id": "cmpl-test", "object": "chat.completion", "choices": choices,
           "usage": {"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1}})
}

/// A one-answer completion whose tokens carry log-probabilities: each token
/// with its probability and the alternatives at its place.
/// A token, its probability, and the alternatives at its place.
pub type Token<'a> = (&'a str, f64, &'a [(&'a str, f64)]);

pub fn with_logprobs(tokens: &[Token], usage: (u64, u64)) -> Value {
    let content: String = tokens.iter().map(|(t, _, _)| *t).collect();
    let lp: Vec<Value> = tokens
        .iter()
        .map(|(t, p, alts)| {
            let mut top = vec![json!({"token": t, "logprob": p.ln()})];
            top.extend(
                alts.iter()
                    .map(|(a, q)| json!({"token": a, "logprob": q.ln()})),
            );
            json!({"token": t, "logprob": p.ln(), "top_logprobs": top})
        })
        .collect();
    let mut v = completion(&[&content], usage);
    v["choices"][0]["logprobs"] = json!({"content": lp});
    v
}
