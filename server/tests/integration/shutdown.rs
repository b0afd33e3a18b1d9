//! SIGTERM on the real binary: it stops claiming, lets the step in hand
//! finish within the grace period, ends the pages' live-update streams and
//! exits; a step longer than the grace period is released at once and runs
//! again (with the same idempotency key) after a restart.

use crate::common::{Server, bearer_client, fresh_db_url};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Calls = Arc<Mutex<Vec<String>>>;

/// A ledger that takes `pause` to answer; the idempotency key of each call.
async fn slow_ledger(pause: Duration) -> (String, Calls) {
    let calls: Calls = Arc::default();
    let c = calls.clone();
    let app = axum::Router::new().route(
        "/ledger",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let c = c.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("missing")
                    .to_string();
                c.lock().unwrap().push(key);
                tokio::time::sleep(pause).await;
                axum::Json(json!({"booked": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ledger", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

fn workflow(url: &str) -> Value {
    json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "book", "name": "Book", "type": "http", "method": "POST", "url": url, "body": "{{ input | tojson }}"},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "book"}, {"from": "book", "to": "end"}]
    })
}

struct Setup {
    http: reqwest::Client,
    server: Server,
    run_id: String,
}

async fn start_run(db_url: &str, url: &str, grace_ms: &str) -> Setup {
    let token = Server::admin_token(db_url);
    let http = bearer_client(&token);
    let server = Server::start(
        db_url,
        &[
            "--no-example",
            "--allow-hosts",
            "127.0.0.1",
            "--shutdown-grace-ms",
            grace_ms,
        ],
    );
    let created: Value = http
        .post(server.url("/api/v1/workflows"))
        .json(&json!({"name": "book", "definition": workflow(url)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wf = created["workflow_id"].as_str().unwrap();
    let started: Value = http
        .post(server.url(&format!("/api/v1/workflows/{wf}/runs")))
        .json(&json!({"input": {"amount": 12}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Setup {
        http,
        server,
        run_id: started["run_id"].as_str().unwrap().to_string(),
    }
}

async fn wait_for_call(calls: &Calls) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while calls.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the step never called the ledger"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// SIGTERM, and how long the process took to exit.
async fn terminate(server: Server) -> (Duration, std::process::ExitStatus, String) {
    let t = Instant::now();
    server.signal("-TERM");
    let (status, log) = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap();
    (t.elapsed(), status, log)
}

async fn attempts(db_url: &str, run_id: &str) -> Vec<(String, String, Option<String>)> {
    let db = app::store::Db::connect(db_url, app::store::Durability::Normal)
        .await
        .unwrap();
    let rows = app::store::conn::query_as(
        "SELECT node_id, outcome, error FROM step_attempts WHERE run_id = $1 AND node_id = 'book' ORDER BY attempt",
    )
    .bind(run_id)
    .fetch_all(&mut db.acquire().await.unwrap())
    .await
    .unwrap();
    db.close().await;
    rows
}

async fn run_status(http: &reqwest::Client, server: &Server, run_id: &str) -> String {
    let run: Value = http
        .get(server.url(&format!("/api/v1/runs/{run_id}?wait_ms=20000")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    run["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn sigterm_with_a_live_page_open_lets_the_running_step_finish_once_and_exits_within_the_bound()
 {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_db_url(dir.path(), "shutdown.db").await;
    let (url, calls) = slow_ledger(Duration::from_millis(1500)).await;
    let s = start_run(&db_url, &url, "8000").await;
    // a page's live-update stream, held open
    let mut stream = s.http.get(s.server.url("/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let reader = tokio::spawn(async move { while let Ok(Some(_)) = stream.chunk().await {} });
    wait_for_call(&calls).await;
    let (took, status, log) = terminate(s.server).await;
    assert!(status.success(), "{log}");
    assert!(took < Duration::from_secs(8), "took {took:?}: {log}");
    assert!(
        took >= Duration::from_millis(500),
        "it waited for the step: {took:?}"
    );
    tokio::time::timeout(Duration::from_secs(2), reader)
        .await
        .expect("the live-update stream was closed")
        .unwrap();
    let a = attempts(&db_url, &s.run_id).await;
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].1, "succeeded", "{a:?}");
    // after a restart the run is over and the ledger was called once
    let again = Server::start(&db_url, &["--no-example", "--allow-hosts", "127.0.0.1"]);
    assert_eq!(run_status(&s.http, &again, &s.run_id).await, "succeeded");
    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_step_longer_than_the_grace_period_is_released_and_runs_again_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_db_url(dir.path(), "released.db").await;
    let (url, calls) = slow_ledger(Duration::from_millis(6000)).await;
    let s = start_run(&db_url, &url, "300").await;
    wait_for_call(&calls).await;
    let (took, status, log) = terminate(s.server).await;
    assert!(status.success(), "{log}");
    assert!(took < Duration::from_secs(3), "took {took:?}: {log}");
    let a = attempts(&db_url, &s.run_id).await;
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].1, "lost");
    assert_eq!(a[0].2.as_deref(), Some(app::store::runs::RELEASED));
    // restarted, it runs the step again, with the same key, and finishes
    let again = Server::start(&db_url, &["--no-example", "--allow-hosts", "127.0.0.1"]);
    assert_eq!(run_status(&s.http, &again, &s.run_id).await, "succeeded");
    let keys = calls.lock().unwrap().clone();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(
        keys[0], keys[1],
        "the repeat carries the same idempotency key"
    );
    let mut by_outcome: HashMap<String, usize> = HashMap::new();
    for (_, outcome, _) in attempts(&db_url, &s.run_id).await {
        *by_outcome.entry(outcome).or_default() += 1;
    }
    assert_eq!(
        by_outcome,
        HashMap::from([("lost".into(), 1), ("succeeded".into(), 1)])
    );
}
