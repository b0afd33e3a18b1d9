//! `stepwise copy` moves a whole instance from the embedded SQLite file to
//! PostgreSQL (issue 17), as a team outgrowing one machine would: an
//! instance with the triage example's runs (one decided, one waiting for a
//! person), API tokens and a secret is copied; the new instance shows
//! the same workflows, runs, inbox and audit trail, which still verifies,
//! and goes on with the waiting run. A second copy into the same database
//! is refused, and the tables copied are exactly the schema's.

use crate::common::Server;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn call(s: &Server, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new()
        .request(method.parse().unwrap(), s.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {v}");
    v
}

/// Waits until run `id` has a step waiting, or has ended.
async fn settle(s: &Server, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = call(s, token, "GET", &format!("/api/v1/runs/{id}"), None).await;
        let waiting = run["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|st| st["status"] == "waiting");
        if waiting || run["status"] != "running" {
            return run;
        }
        assert!(Instant::now() < deadline, "run {id} did not settle: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a person sees of an instance through the API.
async fn view(s: &Server, token: &str, approver: &str, runs: &[String]) -> Vec<Value> {
    let mut out = vec![
        call(s, token, "GET", "/api/v1/workflows", None).await,
        call(s, approver, "GET", "/api/v1/approvals", None).await,
        call(s, approver, "GET", "/api/v1/approvals?status=decided", None).await,
        call(s, token, "GET", "/api/v1/model-connections", None).await,
        call(s, token, "GET", "/api/v1/audit?limit=1000", None).await,
    ];
    for id in runs {
        out.push(call(s, token, "GET", &format!("/api/v1/runs/{id}"), None).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_copied_from_sqlite_to_postgresql_shows_the_same_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let from = format!("sqlite://{}", dir.path().join("old.db").display());
    let admin = Server::admin_token(&from);
    let approver = Server::cli(
        &[
            "token",
            "create",
            "--name",
            "ann",
            "--role",
            "approver",
            "--database-url",
            &from,
        ],
        &[],
    );
    Server::cli(
        &[
            "secret",
            "set",
            "--name",
            "LEDGER_KEY",
            "--hosts",
            "127.0.0.1",
            "--database-url",
            &from,
        ],
        &[("STEPWISE_SECRET_VALUE", "s3cret")],
    );
    let old = Server::start(&from, &["--demo"]);
    let workflows = call(&old, &admin, "GET", "/api/v1/workflows", None).await;
    let triage = workflows["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "Support ticket triage")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut runs = Vec::new();
    for body in [
        "Please refund my money, the blender broke.",
        "Refund the broken kettle please.",
    ] {
        let started = call(
            &old,
            &admin,
            "POST",
            &format!("/api/v1/workflows/{triage}/runs"),
            Some(json!({"input": {"subject": "Refund", "body": body, "customer_email": "a@example.com", "order_id": "A-1"}})),
        )
        .await;
        runs.push(started["run_id"].as_str().unwrap().to_string());
    }
    for id in &runs {
        settle(&old, &admin, id).await;
    }
    // the first run's item is decided, the second's is left for later
    let inbox = call(&old, &approver, "GET", "/api/v1/approvals", None).await;
    let item_of = |run: &str| {
        inbox["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["run_id"] == run)
            .unwrap_or_else(|| panic!("no item for {run}: {inbox}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (first, second) = (item_of(&runs[0]), item_of(&runs[1]));
    call(
        &old,
        &approver,
        "POST",
        &format!("/api/v1/approvals/{first}/decision"),
        Some(json!({"decision": "approve", "comment": "fine"})),
    )
    .await;
    // its step is still waiting until the engine wakes it: wait for the
    // run's end, not for a waiting step (the view below raced its end)
    let ended = call(
        &old,
        &admin,
        "GET",
        &format!("/api/v1/runs/{}?wait_ms=20000", runs[0]),
        None,
    )
    .await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    let before = view(&old, &admin, &approver, &runs).await;
    old.signal("-TERM");
    old.wait();

    let to = crate::postgres::fresh_database().await;
    let report = Server::cli(&["copy", "--from", &from, "--to", &to], &[]);
    assert!(report.contains("the audit trail verifies"), "{report}");
    // a second copy would mix two instances: refused, nothing written
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["copy", "--from", &from, "--to", &to])
        .output()
        .unwrap();
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("already holds"), "{said}");

    // the new instance, with the old one's key: the same view
    let key = std::fs::read_to_string(dir.path().join("secret.key")).unwrap();
    let key = key.trim();
    let new = Server::start_with_env(&to, &[], &[("STEPWISE_SECRET_KEY", key)]);
    assert!(!new.addr.is_empty(), "the new instance started");
    let after = view(&new, &admin, &approver, &runs).await;
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a);
    }

    // and it goes on: the waiting run's item is decided there
    call(
        &new,
        &approver,
        "POST",
        &format!("/api/v1/approvals/{second}/decision"),
        Some(json!({"decision": "reject", "comment": "not this one"})),
    )
    .await;
    // (the decision wakes the step; the engine ends the run just after)
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = call(
            &new,
            &admin,
            "GET",
            &format!("/api/v1/runs/{}", runs[1]),
            None,
        )
        .await;
        if run["status"] != "running" {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not end: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    new.signal("-TERM");
    new.wait();
    let verify = Server::cli(&["audit", "verify", "--database-url", &to], &[]);
    assert!(verify.starts_with("intact"), "{verify}");
}

/// Every table of both backends' schemas is copied, column for column
/// (a migration adding a column or table must add it to the copy), but
/// for the few named as not copied.
#[tokio::test]
async fn the_tables_copied_are_exactly_the_schemas_on_both_backends() {
    use app::store::conn::query_as;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = app::store::Db::connect(
        &format!("sqlite://{}", dir.path().join("s.db").display()),
        app::store::Durability::Normal,
    )
    .await
    .unwrap();
    sqlite.migrate().await.unwrap();
    let pg = app::store::Db::connect(&crate::postgres::fresh_database().await, Default::default())
        .await
        .unwrap();
    pg.migrate().await.unwrap();
    let mut expected: Vec<(String, String)> = app::store::copy::TABLES
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .map(|c| (t.name.to_string(), c.0.to_string()))
        })
        .collect();
    expected.sort();
    let mut on_sqlite: Vec<(String, String)> = query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name != '_sqlx_migrations'",
    )
    .fetch_all(&mut sqlite.acquire().await.unwrap())
    .await
    .unwrap();
    on_sqlite.retain(|(t, _)| !app::store::copy::NOT_COPIED.contains(&t.as_str()));
    on_sqlite.sort();
    assert_eq!(on_sqlite, expected);
    let mut on_pg: Vec<(String, String)> = query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name != '_sqlx_migrations' AND column_name != 'rowid'",
    )
    .fetch_all(&mut pg.acquire().await.unwrap())
    .await
    .unwrap();
    on_pg.retain(|(t, _)| !app::store::copy::NOT_COPIED.contains(&t.as_str()));
    on_pg.sort();
    assert_eq!(on_pg, expected);
}
