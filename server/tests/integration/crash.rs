//! Crash test: the real binary is SIGKILLed at random moments while 200
//! runs with parallel Http steps are in flight, and restarted each time.
//! Afterwards every run has succeeded, no completed step ran again, every
//! step's idempotency key reached the receiver, and nothing is left running.

use crate::common::Server;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUNS: usize = 200;
const KILLS: usize = 10;
const PARALLEL: [&str; 3] = ["a", "b", "c"];

type Hits = Arc<Mutex<HashMap<String, usize>>>;

/// Counts requests per idempotency key; answers after a short pause so that
/// kills land while requests are in flight.
async fn receiver() -> (String, Hits) {
    let hits: Hits = Arc::default();
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/ledger",
        axum::routing::post(move |headers: HeaderMap| {
            let h = h.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("missing")
                    .to_string();
                *h.lock().unwrap().entry(key).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
                axum::Json(json!({"ok": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ledger", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits)
}

fn workflow(url: &str) -> Value {
    let mut nodes = vec![json!({"id": "start", "name": "Start", "type": "start"})];
    let mut edges = vec![];
    for id in PARALLEL {
        nodes.push(
            json!({"id": id, "name": id, "type": "http", "method": "POST", "url": url,
                          "body": "{{ input | tojson }}"}),
        );
        edges.push(json!({"from": "start", "to": id}));
        edges.push(json!({"from": id, "to": "join"}));
    }
    nodes.push(json!({"id": "join", "name": "Join", "type": "join"}));
    nodes.push(json!({"id": "end", "name": "End", "type": "end", "output": ".input"}));
    edges.push(json!({"from": "join", "to": "end"}));
    json!({"nodes": nodes, "edges": edges})
}

const ARGS: [&str; 10] = [
    "--no-example",
    // the counting receiver is on loopback
    "--allow-hosts",
    "127.0.0.1",
    "--lease-ms",
    "1500",
    "--recovery-ms",
    "200",
    "--workers",
    "4",
    "--log-format=text",
];

fn client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_repeated_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("crash.db").display());
    let (url, hits) = receiver().await;
    let token = Server::admin_token(&db_url);
    let http = client(&token);

    let mut server = Server::start(&db_url, &ARGS);
    let created: Value = http
        .post(server.url("/api/v1/workflows"))
        .json(&json!({"name": "crash", "definition": workflow(&url)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wf = created["workflow_id"].as_str().unwrap().to_string();

    // Submit the runs while killing the server now and then; a submission
    // that hits a dead server is retried on the next one.
    let mut run_ids = Vec::new();
    let mut kills = 0;
    let mut next_kill = Instant::now() + Duration::from_millis(fastrand::u64(50..300));
    while run_ids.len() < RUNS || kills < KILLS {
        if Instant::now() >= next_kill && kills < KILLS {
            server.child.kill().unwrap(); // SIGKILL
            server.wait();
            kills += 1;
            server = Server::start(&db_url, &ARGS);
            assert!(!server.addr.is_empty(), "restart {kills} failed");
            next_kill = Instant::now() + Duration::from_millis(fastrand::u64(100..400));
            continue;
        }
        if run_ids.len() < RUNS {
            let n = run_ids.len();
            let res = http
                .post(server.url(&format!("/api/v1/workflows/{wf}/runs")))
                .json(&json!({"input": {"n": n}}))
                .send()
                .await;
            if let Ok(res) = res
                && res.status() == 202
            {
                let body: Value = res.json().await.unwrap();
                run_ids.push(body["run_id"].as_str().unwrap().to_string());
            }
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // Let the last server finish everything.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut pending = run_ids.clone();
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} runs still open",
            pending.len()
        );
        let mut still = Vec::new();
        for id in pending {
            let run: Value = http
                .get(server.url(&format!("/api/v1/runs/{id}")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            match run["status"].as_str().unwrap() {
                "running" => still.push(id),
                "succeeded" => {}
                other => panic!("run {id} ended {other}: {run}"),
            }
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.signal("-TERM");
    let (_, log) = server.wait();

    // Inspect the store directly.
    let db = app::store::Db::connect(&db_url, app::store::Durability::Normal)
        .await
        .unwrap();
    let running: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM steps WHERE status IN ('running', 'ready', 'waiting', 'pending')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(running, 0, "nothing is left running or queued");
    let doubles: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT run_id, node_id, COUNT(*) FROM step_attempts WHERE outcome = 'succeeded'
         GROUP BY run_id, node_id HAVING COUNT(*) > 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(doubles.is_empty(), "completed steps ran again: {doubles:?}");
    let attempts: HashMap<(String, String), i64> = sqlx::query_as::<_, (String, String, i64)>(
        "SELECT run_id, node_id, COUNT(*) FROM step_attempts GROUP BY run_id, node_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(r, n, c)| ((r, n), c))
    .collect();

    let hits = hits.lock().unwrap().clone();
    assert!(!hits.contains_key("missing"), "every request carried a key");
    let mut repeated = 0;
    for run in &run_ids {
        for node in PARALLEL {
            let key = format!("{run}:{node}");
            let n = *hits.get(&key).unwrap_or(&0);
            assert!(n >= 1, "{key} never reached the receiver");
            // A repeat is only ever a re-sent attempt of the same step with
            // the same key, never a step that had completed.
            let tried = attempts
                .get(&(run.clone(), node.to_string()))
                .copied()
                .unwrap_or(0);
            assert!(
                n as i64 <= tried.max(1) + 1,
                "{key}: {n} requests for {tried} attempts"
            );
            repeated += n - 1;
        }
    }
    assert_eq!(
        hits.len(),
        RUNS * PARALLEL.len(),
        "no request for a step that does not exist"
    );
    eprintln!(
        "crash test: {RUNS} runs, {kills} kills, {repeated} repeated deliveries (deduplicable by key)"
    );
    assert!(log.contains("stopped"), "the last server shut down cleanly");
}
