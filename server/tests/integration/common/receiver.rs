//! A local HTTP server standing in for the systems Http steps call: it
//! answers each request as the test's plan says (a status, after a delay)
//! and records every request's idempotency key.

use axum::http::{HeaderMap, StatusCode};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// Answer only after this long (a slow or hanging system).
    pub delay_ms: u64,
}

impl Answer {
    pub fn ok() -> Answer {
        Answer {
            status: 200,
            delay_ms: 0,
        }
    }
}

pub type Plan = dyn Fn(usize, &str) -> Answer + Send + Sync;

pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`
    pub url: String,
    /// The idempotency key of every request, in order of arrival.
    pub keys: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    /// Answers request number `n` (from 0) carrying key `k` with `plan(n, k)`.
    pub async fn start(plan: impl Fn(usize, &str) -> Answer + Send + Sync + 'static) -> Receiver {
        let plan: Arc<Plan> = Arc::new(plan);
        let keys = Arc::new(Mutex::new(Vec::new()));
        let k = keys.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (k, plan) = (k.clone(), plan.clone());
                async move {
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let n = {
                        let mut keys = k.lock().unwrap();
                        keys.push(key.clone());
                        keys.len() - 1
                    };
                    let a = plan(n, &key);
                    if a.delay_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(a.delay_ms)).await;
                    }
                    (
                        StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK),
                        axum::Json(json!({"echo": body})),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, keys }
    }

    /// Answers with the scripted statuses in turn, then 200; a 0 in the
    /// script answers 200 after 2 s.
    pub async fn scripted(script: Vec<u16>) -> Receiver {
        Receiver::start(move |n, _| match script.get(n).copied() {
            Some(0) => Answer {
                status: 200,
                delay_ms: 2_000,
            },
            Some(status) => Answer {
                status,
                delay_ms: 0,
            },
            None => Answer::ok(),
        })
        .await
    }

    pub fn calls(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }
}

/// A local Slack-style webhook: records each body, answers `status`.
pub struct Hook {
    /// `http://127.0.0.1:<port>/slack`
    pub url: String,
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    pub status: Arc<std::sync::atomic::AtomicU16>,
}

pub async fn hook() -> Hook {
    use std::sync::atomic::{AtomicU16, Ordering};
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let status = Arc::new(AtomicU16::new(200));
    let (b, st) = (bodies.clone(), status.clone());
    let app = axum::Router::new().route(
        "/slack",
        axum::routing::post(move |body: String| {
            let (b, st) = (b.clone(), st.clone());
            async move {
                b.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null));
                StatusCode::from_u16(st.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Hook {
        url: format!("http://{addr}/slack"),
        bodies,
        status,
    }
}
