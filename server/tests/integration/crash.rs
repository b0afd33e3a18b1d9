//! Crash test: the real binary is SIGKILLed at seeded moments while 200
//! runs are in flight, and restarted each time. Each run calls three Http
//! steps in parallel (the receiver fails some first calls, so retries
//! happen; one step is reversible), waits on a Delay, passes a confidence
//! gate and an Approval that the test decides through the REST API, and
//! every tenth run then fails on purpose so its reversible step is
//! compensated. Afterwards: every run ended as it should, the kills hit
//! work in flight (lost attempts were recovered), no completed step ran
//! again, and every call of a key is accounted for by a logged attempt of
//! its step: repeated deliveries are bounded exactly by the lost attempts.
//! On PostgreSQL three processes share the database: requests go to any
//! of them, kills hit any of them, and besides the above no step ran in two
//! processes at once and the audit trail is still one chain.
//! `CRASH_SEED` replays a kill schedule.

use crate::common::Server;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUNS: usize = 200;
const KILLS: usize = 10;
const PARALLEL: [&str; 3] = ["a", "b", "c"];
/// Items of each run's For each.
const LINES: usize = 3;

type Hits = Arc<Mutex<HashMap<String, usize>>>;

/// Counts requests per idempotency key; answers after a short pause so that
/// kills land while requests are in flight; the first call of one key in
/// seven is answered 503 (the step retries).
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
                let n = {
                    let mut hits = h.lock().unwrap();
                    let n = hits.entry(key.clone()).or_default();
                    *n += 1;
                    *n
                };
                tokio::time::sleep(Duration::from_millis(5)).await;
                let flaky = key.bytes().map(u32::from).sum::<u32>() % 7 == 0;
                if flaky && n == 1 {
                    return (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(json!({})),
                    );
                }
                (axum::http::StatusCode::OK, axum::Json(json!({"ok": true})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ledger", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits)
}

/// Start -> a, b, c (Http, in parallel; a is reversible) -> Join -> For
/// each of three lines (an item run each, calling Http `line`) -> Delay
/// -> score (confidence 0.5: a gate asks a person) -> Approval -> Branch:
/// every tenth run fails on purpose (and a is compensated), the rest end.
fn workflow(url: &str) -> Value {
    let retry = json!({"transient": {"max_attempts": 3, "initial_delay_ms": 100, "jitter": 0.0}});
    let mut nodes = vec![json!({"id": "start", "name": "Start", "type": "start"})];
    let mut edges = vec![];
    for id in PARALLEL {
        let mut n = json!({"id": id, "name": id, "type": "http", "method": "POST", "url": url,
                           "body": "{{ input | tojson }}", "retry": retry});
        if id == "a" {
            n["reversible"] = json!(true);
            n["compensation"] = json!({"method": "POST", "url": format!("{url}?undo")});
        }
        nodes.push(n);
        edges.push(json!({"from": "start", "to": id}));
        edges.push(json!({"from": id, "to": "join"}));
    }
    nodes.extend([
        json!({"id": "join", "name": "Join", "type": "join"}),
        json!({"id": "lines", "name": "Lines", "type": "for_each", "items": format!("[range({LINES})]"), "concurrency": 2}),
        json!({"id": "line_in", "name": "Line", "type": "start", "parent": "lines"}),
        json!({"id": "line", "name": "Post line", "type": "http", "method": "POST", "url": url,
               "body": "{{ item | tojson }}", "retry": retry, "parent": "lines"}),
        json!({"id": "line_done", "name": "Line done", "type": "end", "parent": "lines"}),
        json!({"id": "wait", "name": "Wait", "type": "delay", "duration_ms": 300}),
        json!({"id": "score", "name": "Score", "type": "transform",
               "expression": "{n: .input.n, confidence: 0.5}", "confidence_threshold": 0.9}),
        json!({"id": "ok", "name": "OK", "type": "approval", "title": "Run {{ input.n }}",
               "approvers": {"roles": ["approver"]}}),
        json!({"id": "route", "name": "Route", "type": "branch",
               "conditions": [{"label": "doomed", "expression": ".input.n % 10 == 0"}]}),
        json!({"id": "boom", "name": "Boom", "type": "fail", "message": "doomed on purpose"}),
        json!({"id": "end", "name": "End", "type": "end", "output": ".input"}),
    ]);
    for (from, port, to) in [
        ("join", "out", "lines"),
        ("lines", "out", "wait"),
        ("line_in", "out", "line"),
        ("line", "out", "line_done"),
        ("wait", "out", "score"),
        ("score", "out", "ok"),
        ("ok", "out", "route"),
        ("route", "doomed", "boom"),
        ("route", "default", "end"),
    ] {
        edges.push(json!({"from": from, "port": port, "to": to}));
    }
    json!({"nodes": nodes, "edges": edges})
}

async fn run_json(http: &reqwest::Client, server: &Server, id: &str) -> Value {
    http.get(server.url(&format!("/api/v1/runs/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Decides every pending item the approver token may decide; errors (a
/// dead server) are left for the next round.
async fn decide_all(http: &reqwest::Client, server: &Server) -> usize {
    let Ok(res) = http
        .get(server.url("/api/v1/approvals?limit=500"))
        .send()
        .await
    else {
        return 0;
    };
    let Ok(page) = res.json::<Value>().await else {
        return 0;
    };
    let mut n = 0;
    for item in page["approvals"].as_array().cloned().unwrap_or_default() {
        let id = item["id"].as_str().unwrap_or_default();
        let res = http
            .post(server.url(&format!("/api/v1/approvals/{id}/decision")))
            .json(&json!({"decision": "approve"}))
            .send()
            .await;
        if res.is_ok_and(|r| r.status().is_success()) {
            n += 1;
        }
    }
    n
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_repeated_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = crate::common::fresh_db_url(dir.path(), "crash.db").await;
    let (url, hits) = receiver().await;
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261130);
    eprintln!("crash test: seed {seed} (CRASH_SEED={seed} replays the kill schedule)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let token = Server::admin_token(&db_url);
    let http = crate::common::bearer_client(&token);
    let approver = crate::common::bearer_client(&Server::cli(
        &[
            "token",
            "create",
            "--name",
            "approver",
            "--role",
            "approver",
            "--database-url",
            &db_url,
        ],
        &[],
    ));

    // on PostgreSQL, three processes share the database and the work
    let processes = if crate::postgres::chosen() { 3 } else { 1 };
    let mut servers: Vec<Server> = (0..processes)
        .map(|_| Server::start(&db_url, &ARGS))
        .collect();
    let created: Value = http
        .post(servers[0].url("/api/v1/workflows"))
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
    let mut next_kill = Instant::now() + Duration::from_millis(rng.u64(50..300));
    while run_ids.len() < RUNS || kills < KILLS {
        if Instant::now() >= next_kill && kills < KILLS {
            let victim = rng.usize(..processes);
            let mut dead = servers.swap_remove(victim);
            dead.child.kill().unwrap(); // SIGKILL
            dead.wait();
            kills += 1;
            servers.push(Server::start(&db_url, &ARGS));
            assert!(
                !servers[processes - 1].addr.is_empty(),
                "restart {kills} failed"
            );
            next_kill = Instant::now() + Duration::from_millis(rng.u64(100..400));
            continue;
        }
        // each request to any of the processes
        let server = &servers[rng.usize(..processes)];
        decide_all(&approver, server).await;
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

    // Let the servers finish everything.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut pending = run_ids.clone();
    while !pending.is_empty() {
        let server = &servers[rng.usize(..processes)];
        decide_all(&approver, server).await;
        if Instant::now() >= deadline {
            let one = run_json(&http, server, &pending[0]).await;
            panic!("{} runs still open; one of them: {one:#}", pending.len());
        }
        let mut still = Vec::new();
        for id in pending {
            let run = run_json(&http, server, &id).await;
            let doomed = run["input"]["n"].as_u64().unwrap().is_multiple_of(10);
            match (run["status"].as_str().unwrap(), doomed) {
                ("running", _) => still.push(id),
                ("succeeded", false) | ("failed", true) => {}
                (other, _) => panic!("run {id} ended {other}: {run}"),
            }
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut logs = Vec::new();
    for server in servers {
        server.signal("-TERM");
        logs.push(server.wait().1);
    }

    // Inspect the store directly.
    let db = app::store::Db::connect(&db_url, app::store::Durability::Normal)
        .await
        .unwrap();
    // compensations run after the run ended; give them a moment to finish
    let running: i64 = app::store::conn::query_scalar(
        "SELECT COUNT(*) FROM steps WHERE status IN ('running', 'ready', 'waiting', 'pending')",
    )
    .fetch_one(&mut db.acquire().await.unwrap())
    .await
    .unwrap();
    assert_eq!(running, 0, "nothing is left running or queued");
    let doubles: Vec<(String, String, i64)> = app::store::conn::query_as(
        "SELECT run_id, node_id, COUNT(*) FROM step_attempts WHERE outcome = 'succeeded'
         GROUP BY run_id, node_id HAVING COUNT(*) > 1",
    )
    .fetch_all(&mut db.acquire().await.unwrap())
    .await
    .unwrap();
    assert!(doubles.is_empty(), "completed steps ran again: {doubles:?}");
    // logged attempts by the key their calls carry (an item's names the
    // run it iterates for, the step and the item)
    let attempts: HashMap<String, i64> = app::store::conn::query_as::<(String, i64)>(
        "SELECT CASE WHEN r.item_index IS NULL THEN a.run_id || ':' || a.node_id
                ELSE r.item_root || ':' || a.node_id || ':' || r.item_path END, COUNT(*)
         FROM step_attempts a JOIN runs r ON r.id = a.run_id GROUP BY 1",
    )
    .fetch_all(&mut db.acquire().await.unwrap())
    .await
    .unwrap()
    .into_iter()
    .collect();

    let lost: i64 =
        app::store::conn::query_scalar("SELECT COUNT(*) FROM step_attempts WHERE outcome = 'lost'")
            .fetch_one(&mut db.acquire().await.unwrap())
            .await
            .unwrap();
    assert!(
        lost >= 1,
        "no kill hit a step in flight: the test proved nothing"
    );
    let undone: i64 = app::store::conn::query_scalar(
        "SELECT COUNT(*) FROM steps WHERE node_id = 'a~compensate' AND status = 'succeeded'",
    )
    .fetch_one(&mut db.acquire().await.unwrap())
    .await
    .unwrap();
    assert_eq!(
        undone as usize,
        RUNS / 10,
        "every doomed run's a was undone, once"
    );

    let hits = hits.lock().unwrap().clone();
    assert!(!hits.contains_key("missing"), "every request carried a key");
    let mut repeated = 0;
    let mut keys = 0;
    for run in &run_ids {
        let doomed =
            app::store::conn::query_scalar::<String>("SELECT status FROM runs WHERE id = $1")
                .bind(run)
                .fetch_one(&mut db.acquire().await.unwrap())
                .await
                .unwrap()
                == "failed";
        let mut nodes: Vec<String> = PARALLEL.iter().map(|n| n.to_string()).collect();
        nodes.extend((0..LINES).map(|i| format!("line:{i}")));
        if doomed {
            nodes.push("a~compensate".into());
        }
        for node in nodes {
            let key = format!("{run}:{node}");
            let n = *hits.get(&key).unwrap_or(&0);
            assert!(n >= 1, "{key} never reached the receiver");
            // every call is one logged attempt of its step: a repeat is a
            // retry (the receiver's 503) or a lost attempt, never a step
            // that had completed
            let tried = attempts.get(&key).copied().unwrap_or(0);
            assert!(
                n as i64 <= tried,
                "{key}: {n} requests for {tried} logged attempts"
            );
            repeated += n - 1;
            keys += 1;
        }
    }
    assert_eq!(
        hits.len(),
        keys,
        "no request for a step that does not exist"
    );
    let failed_attempts: i64 = app::store::conn::query_scalar(
        "SELECT COUNT(*) FROM step_attempts WHERE outcome = 'failed'",
    )
    .fetch_one(&mut db.acquire().await.unwrap())
    .await
    .unwrap();
    assert!(
        repeated as i64 <= lost + failed_attempts,
        "{repeated} repeated deliveries, but only {lost} lost and {failed_attempts} failed attempts"
    );
    eprintln!(
        "crash test: seed {seed}, {processes} processes, {RUNS} runs, {kills} kills, {lost} lost attempts recovered, {repeated} repeated deliveries (each a logged retry or lost attempt)"
    );
    for log in &logs {
        assert!(
            log.contains("stopped"),
            "every server shut down cleanly: {log}"
        );
    }
    // one audit chain, whoever wrote to it
    let mut conn = db.acquire().await.unwrap();
    let report = app::store::audit::verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None, "{:?}", report.reason);
    assert!(report.events >= RUNS as i64, "{}", report.events);
}
