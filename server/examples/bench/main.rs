//! `make bench`: drives a release `stepwise` through its REST API on a fresh
//! database per workload and prints one JSON line per workload:
//! `{"workload", "runs", "steps", "seconds", "steps_per_s", "p50_ms", "p99_ms", "rss_mb"}`.
//! Latencies are run creation to run end as the server recorded them.

mod webhooks;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
    token: String,
    db: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(bin: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("bench.db").display());
        let token = make_token(bin, &db, "admin");
        let mut child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                &db,
                "--no-example",
            ])
            .env("STEPWISE_LOG", "warn,stepwise=info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start the stepwise binary");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("server exited").unwrap();
            if let Some(a) = line.split("listening on ").nth(1) {
                break a.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            token,
            db,
            _dir: dir,
        }
    }

    /// A client that sends the bench's admin API token.
    fn client(&self) -> reqwest::Client {
        client_with(&self.token)
    }

    /// A client with a new token of `role`, made while the server runs.
    fn client_as(&self, bin: &str, role: &str) -> reqwest::Client {
        client_with(&make_token(bin, &self.db, role))
    }

    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| (kb / 1024.0 * 10.0).round() / 10.0)
            .unwrap_or(0.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new API token of `role` for the database at `db`, made with the CLI.
fn make_token(bin: &str, db: &str, role: &str) -> String {
    let out = Command::new(bin)
        .args([
            "token",
            "create",
            "--name",
            role,
            "--role",
            role,
            "--database-url",
            db,
        ])
        .output()
        .expect("create an API token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn client_with(token: &str) -> reqwest::Client {
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

fn chain(n: usize) -> Value {
    let mut nodes = vec![json!({"id": "start", "name": "Start", "type": "start"})];
    let mut edges = vec![];
    let mut prev = "start".to_string();
    for i in 0..n {
        let id = format!("t{i}");
        nodes.push(json!({"id": id, "name": id, "type": "transform", "expression": "{n: ((.input.n // 0) + 1)}"}));
        edges.push(json!({"from": prev, "to": id}));
        prev = id;
    }
    nodes.push(json!({"id": "end", "name": "End", "type": "end", "output": "{done: true}"}));
    edges.push(json!({"from": prev, "to": "end"}));
    json!({"nodes": nodes, "edges": edges})
}

fn fanout(n: usize) -> Value {
    let mut nodes = vec![json!({"id": "start", "name": "Start", "type": "start"})];
    let mut edges = vec![];
    for i in 0..n {
        let id = format!("p{i}");
        nodes.push(json!({"id": id, "name": id, "type": "transform", "expression": "{v: 1}"}));
        edges.push(json!({"from": "start", "to": id}));
        edges.push(json!({"from": id, "to": "join"}));
    }
    nodes.push(json!({"id": "join", "name": "Join", "type": "join"}));
    nodes.push(json!({"id": "end", "name": "End", "type": "end", "output": "{done: true}"}));
    edges.push(json!({"from": "join", "to": "end"}));
    json!({"nodes": nodes, "edges": edges})
}

/// Sends a request and reads its JSON answer (the bench stops on any error).
async fn call_json(req: reqwest::RequestBuilder) -> Value {
    req.send()
        .await
        .expect("request sent")
        .json()
        .await
        .expect("JSON answer")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn workload(bin: &str, name: &str, def: Value, runs: usize, concurrency: usize) -> Value {
    let server = Server::start(bin);
    let http = server.client();
    let nodes = def["nodes"].as_array().unwrap().len();
    let created: Value = call_json(
        http.post(format!("{}/api/v1/workflows", server.base))
            .json(&json!({"name": name, "definition": def})),
    )
    .await;
    let wf = created["workflow_id"]
        .as_str()
        .expect("workflow created")
        .to_string();
    // `concurrency` clients, each submitting a run and waiting for it to
    // end before the next (a closed loop).
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        let (http, base, wf, next) = (http.clone(), server.base.clone(), wf.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= runs {
                    return ids;
                }
                let res: Value = call_json(
                    http.post(format!("{base}/api/v1/workflows/{wf}/runs"))
                        .json(&json!({"input": {"n": n}})),
                )
                .await;
                let id = res["run_id"].as_str().expect("run started").to_string();
                // the server answers when the run has ended
                let run: Value =
                    call_json(http.get(format!("{base}/api/v1/runs/{id}?wait_ms=60000"))).await;
                assert_eq!(run["status"], "succeeded", "run {id}: {}", run["error"]);
                ids.push(id);
            }
        }));
    }
    let mut ids = Vec::with_capacity(runs);
    for c in clients {
        ids.extend(c.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies = Vec::with_capacity(runs);
    for id in &ids {
        let run: Value = call_json(http.get(format!("{}/api/v1/runs/{id}", server.base))).await;
        latencies.push(
            (run["finished_at"].as_i64().unwrap() - run["created_at"].as_i64().unwrap()) as f64,
        );
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let steps = runs * nodes;
    json!({
        "workload": name,
        "runs": runs,
        "steps": steps,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "steps_per_s": (steps as f64 / seconds).round(),
        "p50_ms": percentile(&latencies, 0.50),
        "p99_ms": percentile(&latencies, 0.99),
        "rss_mb": server.rss_mb(),
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `inbox-10k`: 10,000 runs wait at an approval; the first page of an
/// approver's inbox (50 items), timed 50 times. Then `decision-to-next-step`:
/// 200 decisions through the REST API, each timed from sending it until the
/// step after the approval has started (server clock, same machine).
async fn inbox(bin: &str) -> Vec<Value> {
    const ITEMS: usize = 10_000;
    let server = Server::start(bin);
    let admin = server.client();
    let approver = server.client_as(bin, "approver");
    let def = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ok", "name": "OK?", "type": "approval", "title": "Approve {{ input.n }}",
             "approvers": {"roles": ["approver"]}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end"}]
    });
    let created: Value = call_json(
        admin
            .post(format!("{}/api/v1/workflows", server.base))
            .json(&json!({"name": "inbox", "definition": def})),
    )
    .await;
    let wf = created["workflow_id"]
        .as_str()
        .expect("workflow")
        .to_string();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..16 {
        let (http, base, wf, next) = (admin.clone(), server.base.clone(), wf.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= ITEMS {
                    return;
                }
                call_json(
                    http.post(format!("{base}/api/v1/workflows/{wf}/runs"))
                        .json(&json!({"input": {"n": n}})),
                )
                .await;
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    // wait until every run waits at its approval
    let pool = sqlx::SqlitePool::connect(&server.db)
        .await
        .expect("open the bench database");
    loop {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM approval_items WHERE status = 'pending'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if n as usize >= ITEMS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut page_ms = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let page =
            call_json(approver.get(format!("{}/api/v1/approvals?status=pending", server.base)))
                .await;
        page_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(page["approvals"].as_array().unwrap().len(), 50);
    }
    page_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let inbox_line = json!({
        "workload": "inbox-10k",
        "pending": ITEMS,
        "page": 50,
        "p50_ms": (percentile(&page_ms, 0.5) * 10.0).round() / 10.0,
        "p99_ms": (percentile(&page_ms, 0.99) * 10.0).round() / 10.0,
        "rss_mb": server.rss_mb(),
    });

    let page = call_json(approver.get(format!(
        "{}/api/v1/approvals?status=pending&limit=200",
        server.base
    )))
    .await;
    let mut sent = Vec::new();
    let mut answer_ms = Vec::new();
    for item in page["approvals"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        let run = item["run_id"].as_str().unwrap().to_string();
        let t0 = now_ms();
        let res = approver
            .post(format!("{}/api/v1/approvals/{id}/decision", server.base))
            .json(&json!({"decision": "approve"}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        answer_ms.push((now_ms() - t0) as f64);
        sent.push((run, t0));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut next_ms = Vec::new();
    for (run, t0) in &sent {
        let started: Option<i64> =
            sqlx::query_scalar("SELECT started_at FROM steps WHERE run_id = ? AND node_id = 'end'")
                .bind(run)
                .fetch_one(&pool)
                .await
                .unwrap();
        next_ms.push((started.expect("the next step started") - t0) as f64);
    }
    next_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    answer_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let decision_line = json!({
        "workload": "decision-to-next-step",
        "decisions": sent.len(),
        "answer_p50_ms": percentile(&answer_ms, 0.5),
        "p50_ms": percentile(&next_ms, 0.5),
        "p99_ms": percentile(&next_ms, 0.99),
    });
    vec![inbox_line, decision_line]
}

/// Times `n` GETs of `url` (ms, sorted).
async fn time_gets(http: &reqwest::Client, url: &str, n: usize) -> Vec<f64> {
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let res = http.get(url).send().await.expect("request sent");
        assert!(res.status().is_success(), "{url}: {}", res.status());
        res.bytes().await.expect("body");
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    ms
}

fn timing_line(name: &str, ms: &[f64], extra: Value) -> Value {
    let mut line = json!({
        "workload": name,
        "p50_ms": (percentile(ms, 0.5) * 10.0).round() / 10.0,
        "p99_ms": (percentile(ms, 0.99) * 10.0).round() / 10.0,
    });
    if let (Some(l), Some(e)) = (line.as_object_mut(), extra.as_object()) {
        l.extend(e.clone());
    }
    line
}

/// `runs-page-100k`: the first page of the runs list with 100,000 runs
/// stored (inserted straight into the database), and the same filtered by
/// status. `run-view-200`: everything the run view loads for a run of 200
/// steps.
async fn history(bin: &str) -> Vec<Value> {
    const RUNS: i64 = 100_000;
    let server = Server::start(bin);
    let http = server.client();
    let created: Value = call_json(
        http.post(format!("{}/api/v1/workflows", server.base))
            .json(&json!({"name": "history", "definition": chain(198)})),
    )
    .await;
    let wf = created["workflow_id"]
        .as_str()
        .expect("workflow")
        .to_string();
    let started: Value = call_json(
        http.post(format!("{}/api/v1/workflows/{wf}/runs", server.base))
            .json(&json!({"input": {"n": 1}})),
    )
    .await;
    let run = started["run_id"].as_str().expect("run").to_string();
    let done: Value =
        call_json(http.get(format!("{}/api/v1/runs/{run}?wait_ms=60000", server.base))).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["steps"].as_array().unwrap().len(), 200);
    let view_ms = time_gets(&http, &format!("{}/api/v1/runs/{run}", server.base), 50).await;

    let pool = sqlx::SqlitePool::connect(&server.db)
        .await
        .expect("open the bench database");
    let mut tx = pool.begin().await.unwrap();
    let base = now_ms() - RUNS * 1000;
    for i in 0..RUNS {
        let status = ["succeeded", "failed", "succeeded", "cancelled"][(i % 4) as usize];
        sqlx::query(
            "INSERT INTO runs (id, workflow_id, version, status, input, started_by, created_at, finished_at)
             VALUES (?, ?, 1, ?, ?, 'bench', ?, ?)",
        )
        .bind(format!("run_bench_{i:06}"))
        .bind(&wf)
        .bind(status)
        .bind(format!("{{\"n\": {i}, \"customer\": \"c{}\"}}", i % 977))
        .bind(base + i * 1000)
        .bind(base + i * 1000 + 50)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let page_ms = time_gets(&http, &format!("{}/api/v1/runs", server.base), 50).await;
    let failed_ms = time_gets(
        &http,
        &format!("{}/api/v1/runs?status=failed", server.base),
        50,
    )
    .await;
    vec![
        timing_line(
            "runs-page-100k",
            &page_ms,
            json!({"runs": RUNS + 1, "page": 50, "filtered_p50_ms": (percentile(&failed_ms, 0.5) * 10.0).round() / 10.0}),
        ),
        timing_line("run-view-200", &view_ms, json!({"steps": 200})),
    ]
}

#[tokio::main]
async fn main() {
    let bin = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/release/stepwise".into());
    let only = std::env::args().nth(2);
    let workloads: Vec<(&str, Value, usize, usize)> = vec![
        ("linear-20", chain(20), 1000, 16),
        ("fanout-10", fanout(10), 1000, 16),
        ("latency-3", chain(1), 200, 1),
    ];
    for (name, def, runs, concurrency) in workloads {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let line = workload(&bin, name, def, runs, concurrency).await;
        println!("{line}");
    }
    if only
        .as_deref()
        .is_none_or(|o| o == "runs-page-100k" || o == "run-view-200")
    {
        for line in history(&bin).await {
            println!("{line}");
        }
    }
    if only.as_deref().is_none_or(|o| o == "webhook-sync-3") {
        println!("{}", webhooks::webhook_sync(&bin).await);
    }
    if only
        .as_deref()
        .is_none_or(|o| o == "inbox-10k" || o == "decision-to-next-step")
    {
        for line in inbox(&bin).await {
            println!("{line}");
        }
    }
}
