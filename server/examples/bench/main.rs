//! `make bench`: drives a release `stepwise` through its REST API on a fresh
//! database per workload and prints one JSON line per workload:
//! `{"workload", "runs", "steps", "seconds", "steps_per_s", "ratio", "p50_ms", "p99_ms", "rss_mb", "backend"}`.
//! The first lines are the references (`sqlite-commit`: one-row SQLite
//! commits per second on this machine, at synchronous=NORMAL and FULL);
//! `ratio` is a workload's steps per second over its reference.
//! With `BENCH_PG_URL` set, each workload runs on a new database of that
//! PostgreSQL server (`make bench-pg` starts a throwaway one).
//! Latencies are what a client sees: from sending the request that starts
//! a run until the answer that it ended, in 0.1 ms; `server_p50_ms` is
//! creation to end as the server recorded them (whole ms).

mod control;
mod equivalence;
mod monitoring;
mod reads;
mod reference;
mod retention;
mod server;
mod webhooks;

use server::{Server, backend, processes};

use serde_json::{Value, json};
use std::time::{Duration, Instant};

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

/// How a client starts a run and learns that it ended.
#[derive(Clone, Copy, PartialEq)]
enum Ask {
    /// A start (202), then `GET /runs/{id}?wait_ms`: two requests.
    StartThenWait,
    /// A synchronous start (`POST …/runs?wait_ms`): one request.
    Sync,
}

/// `concurrency` clients, each starting a run of `wf` and waiting for it
/// to end before the next (a closed loop), until `runs` have run. Returns
/// the run ids with the ms each took as the client saw it, and the seconds
/// it all took.
async fn closed_loop(
    http: &reqwest::Client,
    bases: &[String],
    wf: &str,
    (runs, concurrency): (usize, usize),
    ask: Ask,
) -> (Vec<(String, f64)>, f64) {
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for i in 0..concurrency {
        let base = bases[i % bases.len()].clone();
        let (http, wf, next) = (http.clone(), wf.to_string(), next.clone());
        clients.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= runs {
                    return ids;
                }
                let sent = Instant::now();
                let query = match ask {
                    Ask::Sync => "?wait_ms=60000",
                    Ask::StartThenWait => "",
                };
                let res: Value = call_json(
                    http.post(format!("{base}/api/v1/workflows/{wf}/runs{query}"))
                        .json(&json!({"input": {"n": n}})),
                )
                .await;
                let (id, run) = match ask {
                    Ask::Sync => (res["id"].as_str().expect("run ended").to_string(), res),
                    Ask::StartThenWait => {
                        let id = res["run_id"].as_str().expect("run started").to_string();
                        // the server answers when the run has ended
                        let url = format!("{base}/api/v1/runs/{id}?wait_ms=60000");
                        (id, call_json(http.get(url)).await)
                    }
                };
                assert_eq!(run["status"], "succeeded", "run {id}: {}", run["error"]);
                ids.push((id, sent.elapsed().as_secs_f64() * 1000.0));
            }
        }));
    }
    let mut ids = Vec::with_capacity(runs);
    for c in clients {
        ids.extend(c.await.unwrap());
    }
    (ids, started.elapsed().as_secs_f64())
}

/// Each run's time from creation to end as the server recorded it, sorted.
async fn latencies(http: &reqwest::Client, base: &str, ids: &[(String, f64)]) -> Vec<f64> {
    let mut out = Vec::with_capacity(ids.len());
    for (id, _) in ids {
        let run: Value = call_json(http.get(format!("{base}/api/v1/runs/{id}"))).await;
        out.push(
            (run["finished_at"].as_i64().unwrap() - run["created_at"].as_i64().unwrap()) as f64,
        );
    }
    out.sort_by(|a, b| a.partial_cmp(b).unwrap());
    out
}

/// Creates workflow `name` from `def` (published when `publish`); its id.
async fn create(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    def: Value,
    publish: bool,
) -> String {
    let created: Value = call_json(
        http.post(format!("{base}/api/v1/workflows"))
            .json(&json!({"name": name, "definition": def})),
    )
    .await;
    let wf = created["workflow_id"]
        .as_str()
        .expect("workflow created")
        .to_string();
    if publish {
        let url = format!("{base}/api/v1/workflows/{wf}/published");
        put_ok(http, &url, json!({"version": 1})).await;
    }
    wf
}

/// `PUT`s `body` to `url`, which must succeed.
async fn put_ok(http: &reqwest::Client, url: &str, body: Value) {
    let res = http
        .put(url)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    assert!(res.status().is_success(), "PUT {url}: {}", res.status());
}

/// A closed-loop workload: its name, graph, (runs, clients), the server's
/// flags, the reference its ratio is to, and how its clients ask.
type Workload = (
    &'static str,
    Value,
    (usize, usize),
    &'static [&'static str],
    f64,
    Ask,
);

/// One closed-loop workload on a new server started with `flags`; its
/// line, with `ratio` to `reference` (commits per second).
async fn workload(
    bin: &str,
    name: &str,
    def: Value,
    (runs, concurrency): (usize, usize),
    (flags, reference, ask): (&[&str], f64, Ask),
) -> Value {
    let server = Server::start_with(bin, flags);
    let http = server.client();
    let nodes = def["nodes"].as_array().unwrap().len();
    let wf = create(&http, &server.base, name, def, false).await;
    let cpu = server.cpu_s();
    let gate = gate_turns(&http, &server.base).await;
    let load = (runs, concurrency);
    let (ids, seconds) = closed_loop(&http, &server.bases, &wf, load, ask).await;
    let cpu = server.cpu_s() - cpu;
    let gate: Vec<f64> = gate_turns(&http, &server.base)
        .await
        .iter()
        .zip(gate)
        .map(|(after, before)| after - before)
        .collect();
    let recorded = latencies(&http, &server.base, &ids).await;
    let mut seen: Vec<f64> = ids.iter().map(|(_, ms)| *ms).collect();
    seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let steps = runs * nodes;
    let per_s = steps as f64 / seconds;
    json!({
        "workload": name,
        "runs": runs,
        "clients": concurrency,
        "steps": steps,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "steps_per_s": per_s.round(),
        "ratio": tenth_of_percent(per_s / reference),
        "p50_ms": tenth(percentile(&seen, 0.50)),
        "p99_ms": tenth(percentile(&seen, 0.99)),
        "server_p50_ms": percentile(&recorded, 0.50),
        // the server's CPU per run, the sandbox's included
        "server_cpu_ms_per_run": tenth(cpu * 1000.0 / runs as f64),
        "rss_mb": server.rss_mb(),
        // SQLite: the write gate's turns per run, and the share of the
        // time it was held (near 1: the writes bound the throughput)
        "gate_writes_per_run": tenth(gate[0] / runs as f64),
        "gate_held_ms_per_run": tenth_of_percent(gate[2] * 1000.0 / runs as f64),
        "gate_busy": tenth_of_percent(gate[2] / seconds),
    })
}

/// The server's write-gate counters from `/metrics`: writes, seconds
/// waited, seconds held.
async fn gate_turns(http: &reqwest::Client, base: &str) -> [f64; 3] {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("request sent")
        .text()
        .await
        .expect("the metrics");
    let read = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    [
        read("stepwise_db_writes_total "),
        read("stepwise_db_write_wait_seconds_total "),
        read("stepwise_db_write_held_seconds_total "),
    ]
}

/// `x` rounded to 0.1.
fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A ratio rounded to 0.001 (a tenth of a percent).
fn tenth_of_percent(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// One JSON line, naming the backend it ran on.
fn emit(mut line: Value) {
    line["backend"] = backend().into();
    line["processes"] = processes().into();
    println!("{line}");
}

#[tokio::main]
async fn main() {
    let bin = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/release/stepwise".into());
    let only = std::env::args().nth(2);
    // the references first: every figure below is read against them
    let normal = reference::sqlite_commits_per_s("NORMAL");
    let full = reference::sqlite_commits_per_s("FULL");
    emit(json!({"workload": "sqlite-commit", "synchronous": "normal", "per_s": normal.round()}));
    emit(json!({"workload": "sqlite-commit", "synchronous": "full", "per_s": full.round()}));
    use Ask::{StartThenWait, Sync};
    let workloads: Vec<Workload> = vec![
        (
            "linear-20",
            chain(20),
            (2000, 16),
            &[],
            normal,
            StartThenWait,
        ),
        (
            "fanout-10",
            fanout(10),
            (2000, 16),
            &[],
            normal,
            StartThenWait,
        ),
        // 2,000 runs like the others: a new server's first few hundred
        // runs were 0.1–0.3 ms slower each than the runs after (its WAL
        // still growing to where the checkpointer starts it again, its
        // caches filling), and 300 runs measured mostly those
        ("latency-3", chain(1), (2000, 1), &[], normal, StartThenWait),
        // the same, asked in one request (a synchronous start)
        ("latency-3-sync", chain(1), (2000, 1), &[], normal, Sync),
        (
            "linear-20-full",
            chain(20),
            (2000, 16),
            &["--durability", "full"],
            full,
            StartThenWait,
        ),
    ];
    // BENCH_RUNS=N: that many runs per closed-loop workload instead
    let runs: Option<usize> = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok());
    // BENCH_CLIENTS=N: that many concurrent clients instead (to see
    // whether a figure is bound by latency or by throughput)
    let clients: Option<usize> = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|n| n.parse().ok());
    for (name, def, mut load, flags, reference, ask) in workloads {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        load.0 = runs.unwrap_or(load.0);
        load.1 = clients.unwrap_or(load.1).max(1);
        emit(workload(&bin, name, def, load, (flags, reference, ask)).await);
    }
    if only.as_deref().is_none_or(|o| o == "hot-path-equivalence") {
        emit(equivalence::compare(&bin).await);
    }
    if only
        .as_deref()
        .is_none_or(|o| o == "runs-page-100k" || o == "run-view-200")
    {
        for line in reads::history(&bin).await {
            emit(line);
        }
    }
    if only.as_deref().is_none_or(|o| o == "monitoring-100k") {
        emit(monitoring::monitoring_100k(&bin).await);
    }
    if only.as_deref().is_none_or(|o| o == "foreach-1000") {
        emit(control::foreach(&bin).await);
    }
    if only.as_deref().is_none_or(|o| o == "subworkflow-100") {
        emit(control::subworkflow(&bin).await);
    }
    if only.as_deref().is_none_or(|o| o == "webhook-sync-3") {
        emit(webhooks::webhook_sync(&bin).await);
    }
    if only.as_deref().is_none_or(|o| o == "retention-100k")
        && let Some(line) = retention::retention_100k(&bin).await
    {
        emit(line);
    }
    if only
        .as_deref()
        .is_none_or(|o| o == "inbox-10k" || o == "decision-to-next-step")
    {
        for line in reads::inbox(&bin).await {
            emit(line);
        }
    }
}
