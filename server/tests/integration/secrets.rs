//! A secret used by an Http step reaches the endpoint, and its value
//! appears nowhere else: not in step outputs or errors, the step log, the
//! run, the audit trail, any API answer, the database file or the server log.

use crate::common::Server;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const SECRET: &str = "sk-live-SEARCHME-4242";

/// `/echo` answers 200 with what it received; `/reject` answers 400 with it.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    let echo = move |status: u16| {
        let s = s.clone();
        move |headers: HeaderMap, body: String| {
            let s = s.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                s.lock().unwrap().push(auth.clone());
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    axum::Json(json!({"got_auth": auth, "got_body": body})),
                )
            }
        }
    };
    let app = axum::Router::new()
        .route("/echo", axum::routing::post(echo(200)))
        .route("/reject", axum::routing::post(echo(400)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_is_sent_but_never_stored_shown_or_logged() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.db");
    let db_url = format!("sqlite://{}", file.display());
    let token = Server::admin_token(&db_url);
    Server::cli(
        &[
            "secret",
            "set",
            "--name",
            "API_KEY",
            "--hosts",
            "127.0.0.1",
            "--database-url",
            &db_url,
        ],
        &[("STEPWISE_SECRET_VALUE", SECRET)],
    );

    let (recv, seen) = receiver().await;
    let server = Server::start(
        &db_url,
        &[
            "--log-level",
            "debug",
            "--no-example",
            "--allow-hosts",
            "127.0.0.1",
        ],
    );
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let call = |req: reqwest::RequestBuilder| {
        let auth = auth.clone();
        async move {
            let res = req.header("authorization", auth).send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            (status, text)
        }
    };
    let def = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "send", "name": "Send", "type": "http", "method": "POST",
             "url": format!("{recv}/echo?key={{{{ secrets.API_KEY }}}}"),
             "headers": {"Authorization": "Bearer {{ secrets.API_KEY }}"},
             "body": "{\"key\": \"{{ secrets.API_KEY }}\"}"},
            {"id": "refused", "name": "Refused", "type": "http", "method": "POST",
             "url": format!("{recv}/reject?key={{{{ secrets.API_KEY }}}}"),
             "headers": {"Authorization": "Bearer {{ secrets.API_KEY }}"},
             "body": "{{ secrets.API_KEY }}"},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "send"}, {"from": "send", "to": "refused"}, {"from": "refused", "to": "end"}]
    });
    let (status, created) = call(
        http.post(server.url("/api/v1/workflows"))
            .json(&json!({"name": "uses a secret", "definition": def})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let wf = serde_json::from_str::<Value>(&created).unwrap()["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, started) = call(
        http.post(server.url(&format!("/api/v1/workflows/{wf}/runs")))
            .json(&json!({"input": {"note": "hello"}})),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let run = serde_json::from_str::<Value>(&started).unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, ended) = call(http.get(server.url(&format!("/api/v1/runs/{run}?wait_ms=20000")))).await;
    let ended_json: Value = serde_json::from_str(&ended).unwrap();
    assert_eq!(ended_json["status"], "failed", "{ended}");

    // the endpoint got the real value, every time
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert!(
        got.iter().all(|a| a == &format!("Bearer {SECRET}")),
        "{got:?}"
    );
    // and what came back is masked
    assert!(ended.contains("[secret]"), "{ended}");

    let mut everything = vec![ended.clone()];
    for path in [
        format!("/api/v1/runs/{run}/attempts"),
        format!("/api/v1/workflows/{wf}"),
        "/api/v1/workflows".to_string(),
    ] {
        let (status, body) = call(http.get(server.url(&path))).await;
        assert_eq!(status, 200, "{path}: {body}");
        everything.push(body);
    }
    for rpc in ["list_audit_events", "list_secrets", "list_runs"] {
        let (status, body) = call(
            http.post(server.url(&format!("/rpc/{rpc}")))
                .header("content-type", "application/x-www-form-urlencoded"),
        )
        .await;
        assert_eq!(status, 200, "{rpc}: {body}");
        everything.push(body);
    }
    assert!(
        everything[4].contains("secret.saved"),
        "the audit trail has the event"
    );
    assert!(everything[5].contains("API_KEY"), "the name is listed");

    server.signal("-TERM");
    let (_, log) = server.wait();
    assert!(log.contains("send"), "the log is the real one: {log}");
    everything.push(log);
    for f in [file.clone(), dir.path().join("secrets.db-wal")] {
        if let Ok(bytes) = std::fs::read(&f) {
            everything.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    for (i, text) in everything.iter().enumerate() {
        assert!(
            !text.contains(SECRET),
            "the secret leaked into item {i}: {text}"
        );
    }
}
