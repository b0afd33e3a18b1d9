//! Several `stepwise serve` processes on one PostgreSQL database (issue
//! 17): what one process does reaches a page listening on another, and a
//! process whose secret key differs from the instance's refuses to start.
//! (The crash test runs three processes under kills on PostgreSQL.)

use crate::common::Server;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

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
    let http = crate::common::bearer_client(&token);
    let approver = crate::common::bearer_client(&Server::cli(
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

async fn api(http: &reqwest::Client, s: &Server, method: &str, path: &str, body: Value) -> Value {
    let res = http
        .request(method.parse().unwrap(), s.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{method} {path}: {status} {v}");
    v
}

/// Work that must happen once, with every process doing it and one of
/// them killed half-way: a schedule fires each nominal second exactly once
/// and every fire starts one run; each approval deadline acts once; each
/// run timeout ends its run once, with one audit event each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_three_processes_and_one_killed_each_fire_and_each_deadline_happens_once() {
    const ARGS: [&str; 5] = ["--no-example", "--lease-ms", "1500", "--recovery-ms", "100"];
    let url = crate::postgres::fresh_database().await;
    let http = crate::common::bearer_client(&Server::admin_token(&url));
    let mut servers: Vec<Server> = (0..3).map(|_| Server::start(&url, &ARGS)).collect();
    let s0 = &servers[0];
    let create = async |def: Value| {
        let w = api(
            &http,
            s0,
            "POST",
            "/api/v1/workflows",
            json!({"name": format!("wf {}", fastrand::u64(..)), "definition": def}),
        )
        .await;
        let id = w["workflow_id"].as_str().unwrap().to_string();
        api(
            &http,
            s0,
            "PUT",
            &format!("/api/v1/workflows/{id}/published"),
            json!({"version": 1}),
        )
        .await;
        id
    };
    let ticks = create(json!({
        "nodes": [{"id": "start", "name": "Start", "type": "start"}, {"id": "end", "name": "End", "type": "end"}],
        "edges": [{"from": "start", "to": "end"}]
    }))
    .await;
    // an approval nobody decides: its deadline rejects it
    let waits = create(json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ok", "name": "OK", "type": "approval", "title": "OK?", "approvers": {"roles": ["approver"]},
             "deadline": {"after_ms": 1500, "action": "reject"}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end"}]
    }))
    .await;
    // and one whose run times out first
    let slow = create(json!({
        "settings": {"run_timeout_ms": 1500},
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ok", "name": "OK", "type": "approval", "title": "OK?", "approvers": {"roles": ["approver"]}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end"}]
    }))
    .await;
    let trigger = api(
        &http,
        s0,
        "POST",
        &format!("/api/v1/workflows/{ticks}/triggers"),
        json!({"name": "every second", "kind": "schedule", "when": {"every_ms": 1000}}),
    )
    .await["trigger"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut runs = Vec::new();
    for i in 0..6 {
        let (wf, s) = if i % 2 == 0 {
            (&waits, &servers[i % 3])
        } else {
            (&slow, &servers[i % 3])
        };
        let r = api(
            &http,
            s,
            "POST",
            &format!("/api/v1/workflows/{wf}/runs"),
            json!({"input": {}}),
        )
        .await;
        runs.push(r["run_id"].as_str().unwrap().to_string());
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    // the process that started first (any could be doing the work) dies
    let mut dead = servers.remove(0);
    dead.child.kill().unwrap();
    dead.wait();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    servers.push(Server::start(&url, &ARGS));
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    api(
        &http,
        &servers[0],
        "POST",
        &format!("/api/v1/triggers/{trigger}/pause"),
        json!({}),
    )
    .await;
    // every run ended, once
    for id in &runs {
        let status = wait_for("the run to end", async || {
            let r: Value = http
                .get(servers[1].url(&format!("/api/v1/runs/{id}")))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (r["status"] != "running").then(|| r["status"].as_str().unwrap_or("").to_string())
        })
        .await;
        assert_eq!(status, "failed", "{id}");
    }
    for s in servers {
        s.signal("-TERM");
        s.wait();
    }

    let db = app::store::Db::connect(&url, Default::default())
        .await
        .unwrap();
    let mut conn = db.acquire().await.unwrap();
    let fires: Vec<(i64, String, Option<String>)> = app::store::conn::query_as(
        "SELECT nominal_at, outcome, run_id FROM trigger_events WHERE trigger_id = $1 AND nominal_at IS NOT NULL ORDER BY nominal_at",
    )
    .bind(trigger.as_str())
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(fires.len() >= 5, "{fires:?}");
    for pair in fires.windows(2) {
        assert_eq!(
            pair[1].0 - pair[0].0,
            1000,
            "each nominal second once, none left out: {fires:?}"
        );
    }
    for (nominal, outcome, run) in &fires {
        assert_eq!(outcome, "started", "{nominal}: {fires:?}");
        assert!(run.is_some());
    }
    let scheduled: i64 =
        app::store::conn::query_scalar("SELECT COUNT(*) FROM runs WHERE trigger_id = $1")
            .bind(trigger.as_str())
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(scheduled as usize, fires.len(), "one run per fire");
    for id in &runs {
        let ends: i64 = app::store::conn::query_scalar(
            "SELECT COUNT(*) FROM audit_events WHERE run_id = $1 AND action LIKE 'run.%' AND action != 'run.started'",
        )
        .bind(id.as_str())
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(ends, 1, "run {id} ended once");
    }
    let deadlines: Vec<(String, i64)> = app::store::conn::query_as(
        "SELECT run_id, COUNT(*) FROM audit_events WHERE action = 'approval.deadline' GROUP BY run_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(deadlines.len(), 3, "{deadlines:?}");
    assert!(deadlines.iter().all(|d| d.1 == 1), "{deadlines:?}");
    let report = app::store::audit::verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None, "{:?}", report.reason);
}
