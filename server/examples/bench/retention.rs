//! `retention-100k`: 100,000 finished runs from 2 to 30 days ago (each
//! with three steps and their step log) put straight into a server's
//! database. One client runs a three-step workflow in a closed loop, first
//! with nothing else going on ("idle"), then while the retention loop
//! deletes the old runs (the workflow set to keep runs one day). Prints the
//! engine's latency in both (client side, start to end, 0.1 ms), how long
//! the sweep took, the database before and after, that new data reuses the
//! freed pages (the file does not grow), and that the audit trail
//! verifies. SQLite only: the file and its free pages are what is measured.

use super::*;
use std::process::Command;

const RUNS: i64 = 100_000;
const DAY: i64 = 86_400_000;

/// The database file's size and free pages, after a checkpoint.
async fn file_stats(db: &app::store::Db, path: &str) -> (f64, i64) {
    let mut conn = db.acquire().await.unwrap();
    app::store::conn::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    let free: i64 = app::store::conn::query_scalar("PRAGMA freelist_count")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    ((bytes as f64 / 1_048_576.0 * 10.0).round() / 10.0, free)
}

/// Inserts `n` finished runs of `wf` created from `from` on, `step` ms
/// apart, each with three steps and three attempts of about 300 bytes.
async fn insert_runs(db: &app::store::Db, wf: &str, tag: &str, n: i64, from: i64, step: i64) {
    let input = json!({"customer": "ACME Corporation", "lines": [{"sku": "A-100", "qty": 3, "price": 12.5}], "note": "x".repeat(120)}).to_string();
    let mut tx = db.write().await.unwrap();
    for i in 0..n {
        let at = from + i * step;
        let id = format!("run_{tag}_{i:07}");
        app::store::conn::query(
            "INSERT INTO runs (id, workflow_id, version, status, input, output, started_by, created_at, finished_at, confidence, origin)
             VALUES ($1, $2, 1, 'succeeded', $3, '{\"done\":true}', 'bench', $4, $5, 1.0, 'api')",
        )
        .bind(&id)
        .bind(wf)
        .bind(&input)
        .bind(at)
        .bind(at + 5)
        .execute(&mut tx)
        .await
        .unwrap();
        for node in ["start", "t0", "end"] {
            app::store::conn::query(
                "INSERT INTO steps (run_id, node_id, status, attempt, output, started_at, finished_at)
                 VALUES ($1, $2, 'succeeded', 1, '{\"n\":1}', $3, $3)",
            )
            .bind(&id)
            .bind(node)
            .bind(at)
            .execute(&mut tx)
            .await
            .unwrap();
            app::store::conn::query(
                "INSERT INTO step_attempts (run_id, node_id, attempt, worker, started_at, finished_at, input, output, outcome)
                 VALUES ($1, $2, 1, 'bench', $3, $3, $4, '{\"n\":1}', 'succeeded')",
            )
            .bind(&id)
            .bind(node)
            .bind(at)
            .bind(&input)
            .execute(&mut tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// Starts runs of `wf` one after another until `stop` is set (and at least
/// `at_least` ran): each run's time from start to end as the engine
/// recorded it, and as the client saw it (start request to the answer of
/// the long poll), in ms, each sorted.
async fn closed_loop_until(
    http: reqwest::Client,
    base: String,
    wf: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    at_least: usize,
) -> (Vec<f64>, Vec<f64>) {
    let (mut engine, mut client) = (Vec::new(), Vec::new());
    while client.len() < at_least || !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let t = Instant::now();
        let res: Value = call_json(
            http.post(format!("{base}/api/v1/workflows/{wf}/runs"))
                .json(&json!({"input": {"n": 1}})),
        )
        .await;
        let id = res["run_id"]
            .as_str()
            .unwrap_or_else(|| panic!("run started: {res}"))
            .to_string();
        let run: Value =
            call_json(http.get(format!("{base}/api/v1/runs/{id}?wait_ms=60000"))).await;
        assert_eq!(run["status"], "succeeded", "run {id}: {}", run["error"]);
        client.push(t.elapsed().as_secs_f64() * 1000.0);
        engine.push(
            (run["finished_at"].as_i64().unwrap() - run["created_at"].as_i64().unwrap()) as f64,
        );
    }
    for v in [&mut engine, &mut client] {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    (engine, client)
}

fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

pub async fn retention_100k(bin: &str) -> Option<Value> {
    if backend() != "sqlite" {
        return None;
    }
    // runs are kept for ever until the workflow says one day (below)
    let server = Server::start_with(bin, &["--retention-every-ms", "1000"]);
    let http = server.client();
    let path = server.db.trim_start_matches("sqlite://").to_string();
    let wf = create(&http, &server.base, "kept a day", chain(1), false).await;
    let db = server.open_db().await;

    // 100,000 runs from 2 to 30 days ago
    let now = now_ms();
    let inserted = Instant::now();
    insert_runs(&db, &wf, "old", RUNS, now - 30 * DAY, 28 * DAY / RUNS).await;
    let insert_s = inserted.elapsed().as_secs_f64();
    let (mb_full, _) = file_stats(&db, &path).await;

    // the engine with them, idle: 300 runs, one at a time
    let idle = closed_loop_until(
        http.clone(),
        server.base.clone(),
        wf.clone(),
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
        300,
    )
    .await;

    // the workflow now keeps its runs a day: the next sweep (within a
    // second) deletes the old ones while one client keeps running it
    let url = format!("{}/api/v1/workflows/{wf}/retention", server.base);
    put_ok(&http, &url, json!({"days": 1})).await;
    let swept = Instant::now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let during = tokio::spawn(closed_loop_until(
        http.clone(),
        server.base.clone(),
        wf.clone(),
        stop.clone(),
        100,
    ));
    let old_left = || async {
        let mut conn = db.acquire().await.unwrap();
        app::store::conn::query_scalar::<i64>("SELECT COUNT(*) FROM runs WHERE created_at < $1")
            .bind(now - DAY)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    while old_left().await > 0 {
        assert!(
            swept.elapsed() < Duration::from_secs(600),
            "the sweep took over 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sweep_s = swept.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let during = during.await.unwrap();
    let (mb_swept, free_swept) = file_stats(&db, &path).await;

    // new data goes into the freed pages: the file does not grow
    insert_runs(&db, &wf, "new", RUNS / 2, now, 1).await;
    let (mb_refilled, free_refilled) = file_stats(&db, &path).await;

    let verify = Command::new(bin)
        .args(["audit", "verify", "--database-url", &server.db])
        .output()
        .expect("run audit verify");
    let p = |v: &[f64], q: f64| tenth(percentile(v, q));
    let ((idle, idle_client), (during, during_client)) = (idle, during);
    Some(json!({
        "workload": "retention-100k",
        "runs_deleted": RUNS,
        "insert_s": tenth(insert_s),
        "sweep_s": tenth(sweep_s),
        "deleted_per_s": (RUNS as f64 / sweep_s).round(),
        "idle_runs": idle.len(),
        "during_runs": during.len(),
        "engine_idle_p50_ms": p(&idle, 0.5),
        "engine_idle_p99_ms": p(&idle, 0.99),
        "engine_during_p50_ms": p(&during, 0.5),
        "engine_during_p99_ms": p(&during, 0.99),
        "client_idle_p50_ms": p(&idle_client, 0.5),
        "client_during_p50_ms": p(&during_client, 0.5),
        "client_p50_ratio": (percentile(&during_client, 0.5) / percentile(&idle_client, 0.5) * 100.0).round() / 100.0,
        "db_mb_with_old_runs": mb_full,
        "db_mb_after_sweep": mb_swept,
        "free_pages_after_sweep": free_swept,
        "db_mb_after_50k_new_runs": mb_refilled,
        "free_pages_after_50k_new_runs": free_refilled,
        "audit_verify": if verify.status.success() { "ok".to_string() } else { String::from_utf8_lossy(&verify.stderr).trim().to_string() },
        "rss_mb": server.rss_mb(),
    }))
}
