//! `webhook-sync-3`: a signed webhook whose 3-step run (Start, Transform,
//! End) answers synchronously with the output. Timed from sending the
//! request to reading the answer: once unloaded (one client, one request
//! at a time) and with 16 concurrent clients (closed loop).

use super::{Server, call_json, chain, percentile};
use serde_json::{Value, json};
use server::hooks::signature::header_value;
use std::time::Instant;

const UNLOADED: usize = 300;
const LOADED: usize = 2_000;
const CLIENTS: usize = 16;

pub async fn webhook_sync(bin: &str) -> Value {
    let server = Server::start(bin);
    let http = server.client();
    let created = call_json(
        http.post(format!("{}/api/v1/workflows", server.base))
            .json(&json!({"name": "hooked", "definition": chain(1)})),
    )
    .await;
    let wf = created["workflow_id"]
        .as_str()
        .expect("workflow created")
        .to_string();
    call_json(
        http.put(format!("{}/api/v1/workflows/{wf}/published", server.base))
            .json(&json!({"version": 1})),
    )
    .await;
    let hook = call_json(
        http.post(format!("{}/api/v1/workflows/{wf}/triggers", server.base))
            .json(&json!({"name": "bench", "kind": "webhook", "response": {"mode": "sync"}})),
    )
    .await;
    let url = format!(
        "{}{}",
        server.base,
        hook["trigger"]["url_path"]
            .as_str()
            .expect("webhook created")
    );
    let key = hook["secret"].as_str().unwrap().to_string();
    let plain = reqwest::Client::new();
    // warm up (sandbox children, prepared statements)
    for i in 0..20 {
        deliver(&plain, &url, &key, i).await;
    }
    let mut unloaded = Vec::with_capacity(UNLOADED);
    for i in 0..UNLOADED {
        unloaded.push(deliver(&plain, &url, &key, i).await);
    }
    unloaded.sort_by(f64::total_cmp);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (plain, url, key, next) = (plain.clone(), url.clone(), key.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= LOADED {
                    return ms;
                }
                ms.push(deliver(&plain, &url, &key, n).await);
            }
        }));
    }
    let mut loaded = Vec::with_capacity(LOADED);
    for c in clients {
        loaded.extend(c.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    loaded.sort_by(f64::total_cmp);
    let r = |x: f64| (x * 100.0).round() / 100.0;
    json!({
        "workload": "webhook-sync-3",
        "unloaded_p50_ms": r(percentile(&unloaded, 0.5)),
        "unloaded_p99_ms": r(percentile(&unloaded, 0.99)),
        "clients": CLIENTS,
        "requests": LOADED,
        "p50_ms": r(percentile(&loaded, 0.5)),
        "p99_ms": r(percentile(&loaded, 0.99)),
        "requests_per_s": (LOADED as f64 / seconds).round(),
        "rss_mb": server.rss_mb(),
    })
}

/// One signed delivery; panics unless the run answered with its output.
async fn deliver(http: &reqwest::Client, url: &str, key: &str, n: usize) -> f64 {
    let body = json!({"n": n}).to_string();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sent = Instant::now();
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .header(
            "x-stepwise-signature",
            header_value(key, t, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("delivery sent");
    let status = res.status().as_u16();
    let answer: Value = res.json().await.expect("JSON answer");
    let ms = sent.elapsed().as_secs_f64() * 1000.0;
    assert!(
        status == 200 && answer["status"] == "succeeded",
        "{status} {answer}"
    );
    ms
}
