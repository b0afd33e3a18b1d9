//! `stepwise backup` of a running SQLite instance under load, restored on
//! another path: everything finished before the backup is there and the
//! audit trail verifies; a restore with another key is refused.

use crate::common::{Server, bearer_client};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Runs a `stepwise` command: whether it succeeded, and what it printed.
fn stepwise(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every third run waits for an approval (an item); the others end.
fn workflow() -> Value {
    json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "calc", "name": "Calc", "type": "transform", "expression": "{n: .input.n, big: (.input.n % 3 == 0)}"},
            {"id": "route", "name": "Route", "type": "branch", "conditions": [{"label": "big", "expression": ".steps.calc.output.big"}]},
            {"id": "ask", "name": "Ask", "type": "approval", "title": "Check {{ input.n }}", "approvers": {"roles": ["approver"]}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "calc"}, {"from": "calc", "to": "route"},
            {"from": "route", "port": "big", "to": "ask"}, {"from": "route", "port": "default", "to": "end"},
            {"from": "ask", "to": "end"}
        ]
    })
}

async fn snapshot(url: &str) -> (BTreeSet<String>, BTreeSet<String>, Vec<(i64, String)>) {
    let db = app::store::Db::connect(url, app::store::Durability::Normal)
        .await
        .unwrap();
    let mut conn = db.acquire().await.unwrap();
    let runs: Vec<String> =
        app::store::conn::query_scalar("SELECT id FROM runs WHERE status <> 'running'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let items: Vec<String> = app::store::conn::query_scalar("SELECT id FROM approval_items")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let events: Vec<(i64, String)> =
        app::store::conn::query_as("SELECT seq, hash FROM audit_events ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    drop(conn);
    db.close().await;
    (
        runs.into_iter().collect(),
        items.into_iter().collect(),
        events,
    )
}

fn url_of(p: &Path) -> String {
    format!("sqlite://{}", p.display())
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_elsewhere_with_everything_finished_and_a_verified_trail()
 {
    if crate::postgres::chosen() {
        return; // SQLite's backup; PostgreSQL's is pg_dump
    }
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live/stepwise.db");
    let live_url = url_of(&live);
    let http = bearer_client(&Server::admin_token(&live_url));
    let server = Server::start(&live_url, &["--no-example"]);
    let created: Value = http
        .post(server.url("/api/v1/workflows"))
        .json(&json!({"name": "load", "definition": workflow()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wf = created["workflow_id"].as_str().unwrap().to_string();
    // load: runs started back to back while the backup is taken
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (http, stop, url) = (
            http.clone(),
            stop.clone(),
            server.url(&format!("/api/v1/workflows/{wf}/runs")),
        );
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let r = http
                    .post(&url)
                    .json(&json!({"input": {"n": n}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (done_before, items_before, events_before) = snapshot(&live_url).await;
    assert!(
        done_before.len() > 20,
        "the load ran: {}",
        done_before.len()
    );
    let file = dir.path().join("backups/stepwise-backup.db");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let (ok, said) = tokio::task::spawn_blocking({
        let (file, live_url) = (file.clone(), live_url.clone());
        move || {
            stepwise(
                &[
                    "backup",
                    "--to",
                    file.to_str().unwrap(),
                    "--database-url",
                    &live_url,
                ],
                &[],
            )
        }
    })
    .await
    .unwrap();
    assert!(ok, "{said}");
    assert!(
        said.contains("the trail verifies") && said.contains("fingerprint"),
        "{said}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let started = load.await.unwrap();
    server.signal("-TERM");
    server.wait();
    // a second backup to the same file is refused, the first kept
    let (ok, said) = stepwise(
        &[
            "backup",
            "--to",
            file.to_str().unwrap(),
            "--database-url",
            &live_url,
        ],
        &[],
    );
    assert!(!ok && said.contains("already exists"), "{said}");

    // restored on another path, with the instance's key
    let key = dir.path().join("live/secret.key");
    let elsewhere = dir.path().join("elsewhere/restored.db");
    let (ok, said) = stepwise(
        &[
            "restore",
            "--from",
            file.to_str().unwrap(),
            "--database-url",
            &url_of(&elsewhere),
            "--secret-key-file",
            key.to_str().unwrap(),
        ],
        &[],
    );
    assert!(ok, "{said}");
    let (runs_after, items_after, events_after) = snapshot(&url_of(&elsewhere)).await;
    let missing: Vec<_> = done_before.difference(&runs_after).collect();
    assert!(
        missing.is_empty(),
        "finished runs missing from the restore: {missing:?}"
    );
    assert!(
        items_before.is_subset(&items_after),
        "approval items missing"
    );
    assert_eq!(
        &events_after[..events_before.len()],
        &events_before[..],
        "every audit event from before the backup is there, with its hash"
    );
    let (ok, said) = stepwise(
        &["audit", "verify", "--database-url", &url_of(&elsewhere)],
        &[],
    );
    assert!(ok, "{said}");
    eprintln!(
        "backup under load: {started} runs started, {} finished before it, {} runs in the restore",
        done_before.len(),
        runs_after.len()
    );
    // the restored instance serves
    let restored = Server::start(
        &url_of(&elsewhere),
        &["--no-example", "--secret-key-file", key.to_str().unwrap()],
    );
    assert!(!restored.addr.is_empty(), "the restored instance starts");
}

#[tokio::test]
async fn a_restore_with_another_key_or_over_a_live_database_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let live_url = url_of(&live);
    // an instance with a key, and a secret sealed with it
    Server::admin_token(&live_url);
    let (ok, said) = stepwise(
        &[
            "secret",
            "set",
            "--name",
            "LEDGER",
            "--hosts",
            "ledger.example.com",
            "--database-url",
            &live_url,
        ],
        &[("STEPWISE_SECRET_VALUE", "s3cr3t")],
    );
    assert!(ok, "{said}");
    let file = dir.path().join("b.db");
    let (ok, said) = stepwise(
        &[
            "backup",
            "--to",
            file.to_str().unwrap(),
            "--database-url",
            &live_url,
        ],
        &[],
    );
    assert!(ok, "{said}");

    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, "ab".repeat(32)).unwrap();
    let target = dir.path().join("restored/r.db");
    let (ok, said) = stepwise(
        &[
            "restore",
            "--from",
            file.to_str().unwrap(),
            "--database-url",
            &url_of(&target),
            "--secret-key-file",
            other_key.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!ok);
    assert!(
        said.contains("is not the one this backup was made with") && said.contains("fingerprint"),
        "{said}"
    );
    assert!(said.contains("nothing was restored"), "{said}");
    assert!(!target.exists());
    // over an existing database only with --force
    let (ok, said) = stepwise(
        &[
            "restore",
            "--from",
            file.to_str().unwrap(),
            "--database-url",
            &live_url,
        ],
        &[],
    );
    assert!(!ok && said.contains("--force"), "{said}");
    // not a backup at all
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let (ok, said) = stepwise(
        &[
            "restore",
            "--from",
            junk.to_str().unwrap(),
            "--database-url",
            &url_of(&target),
        ],
        &[("STEPWISE_SECRET_KEY", &"ab".repeat(32))],
    );
    assert!(!ok && said.contains("nothing was restored"), "{said}");
    assert!(!target.exists());
    // PostgreSQL is pg_dump's
    let (ok, said) = stepwise(
        &[
            "backup",
            "--to",
            dir.path().join("pg.db").to_str().unwrap(),
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ],
        &[],
    );
    assert!(!ok && said.contains("pg_dump"), "{said}");
}
