//! Several `stepwise serve` processes on one PostgreSQL database (issue
//! 17): what one process does reaches a page listening on another, and a
//! process whose secret key differs from the instance's refuses to start.
//! (The crash test runs three processes under kills on PostgreSQL.)

use crate::common::Server;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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

/// Start -> an Approval any admin may decide -> End.
fn approval_workflow() -> Value {
    json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ok", "name": "OK", "type": "approval", "title": "Go?",
             "approvers": {"roles": ["approver"]}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end"}]
    })
}

async fn wait_for<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_made_through_one_process_reaches_a_page_listening_on_another() {
    let url = crate::postgres::fresh_database().await;
    let token = Server::admin_token(&url);
    let http = client(&token);
    let approver = client(&Server::cli(
        &[
            "token",
            "create",
            "--name",
            "ann",
            "--role",
            "approver",
            "--database-url",
            &url,
        ],
        &[],
    ));
    let a = Server::start(&url, &["--no-example"]);
    let b = Server::start(&url, &["--no-example"]);
    assert!(!a.addr.is_empty() && !b.addr.is_empty());

    let created: Value = http
        .post(a.url("/api/v1/workflows"))
        .json(&json!({"name": "two processes", "definition": approval_workflow()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wf = created["workflow_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_string();
    let started: Value = http
        .post(b.url(&format!("/api/v1/workflows/{wf}/runs")))
        .json(&json!({"input": {}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run = started["run_id"].as_str().unwrap().to_string();
    // whichever process's worker took it, the item is there for both
    let item = wait_for("the approval item", async || {
        let page: Value = approver
            .get(a.url("/api/v1/approvals"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        page["approvals"][0]["id"].as_str().map(str::to_string)
    })
    .await;

    // a page on b listens for changes of the run and of the inbox
    let events = http
        .get(b.url(&format!("/events?topics=approvals,run:{run}")))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut events = events;
        while let Ok(Some(chunk)) = events.chunk().await {
            let _ = tx.send(String::from_utf8_lossy(&chunk).to_string());
        }
    });
    // the stream is open before the decision is made
    tokio::time::sleep(Duration::from_millis(300)).await;

    let decided = approver
        .post(a.url(&format!("/api/v1/approvals/{item}/decision")))
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .unwrap();
    assert!(
        decided.status().is_success(),
        "{}",
        decided.text().await.unwrap()
    );
    let mut heard = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(heard.contains("event: approvals") && heard.contains("event: run")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(text)) => heard.push_str(&text),
            _ => panic!("the page on the other process heard only {heard:?}"),
        }
    }

    // and the run ends, whichever process's worker goes on with it
    let status = wait_for("the run to end", async || {
        let r: Value = http
            .get(b.url(&format!("/api/v1/runs/{run}")))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (r["status"] != "running").then(|| r["status"].as_str().unwrap_or("").to_string())
    })
    .await;
    assert_eq!(status, "succeeded");
    for s in [a, b] {
        s.signal("-TERM");
        let (_, log) = s.wait();
        assert!(log.contains("stopped"), "{log}");
    }
}

#[tokio::test]
async fn a_process_without_the_instances_key_refuses_to_start_and_says_why() {
    let url = crate::postgres::fresh_database().await;
    // no key at all
    let none = Server::start_with_env(&url, &["--no-example"], &[("STEPWISE_SECRET_KEY", "")]);
    assert!(none.addr.is_empty());
    let (status, log) = none.wait();
    assert!(!status.success());
    assert!(
        log.contains("every process needs the same secret key"),
        "{log}"
    );
    assert!(log.contains("STEPWISE_SECRET_KEY"), "{log}");

    // the first process sets the instance's key; one with another key refuses
    let first = Server::start(&url, &["--no-example"]);
    assert!(!first.addr.is_empty());
    let other = "7".repeat(64);
    let second =
        Server::start_with_env(&url, &["--no-example"], &[("STEPWISE_SECRET_KEY", &other)]);
    assert!(second.addr.is_empty());
    let (status, log) = second.wait();
    assert!(!status.success());
    assert!(
        log.contains("the secret key does not open this database's secrets"),
        "{log}"
    );
    first.signal("-TERM");
    let (_, log) = first.wait();
    assert!(log.contains("stopped"), "{log}");
}
