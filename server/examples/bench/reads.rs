//! Reads under a large history: `inbox-10k`, `decision-to-next-step`,
//! `runs-page-100k`, `run-view-200`.

use super::*;

/// `inbox-10k`: 10,000 runs wait at an approval; the first page of an
/// approver's inbox (50 items), timed 50 times. Then `decision-to-next-step`:
/// 200 decisions through the REST API, each timed from sending it until the
/// step after the approval has started (server clock, same machine): half
/// sent as soon as the one before was answered (`p50_ms`), half after a
/// pause (`paced_p50_ms`). The answer itself is timed on the client.
pub async fn inbox(bin: &str) -> Vec<Value> {
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
    let db = server.open_db().await;
    let mut conn = db.acquire().await.unwrap();
    loop {
        let n: i64 = app::store::conn::query_scalar(
            "SELECT COUNT(*) FROM approval_items WHERE status = 'pending'",
        )
        .fetch_one(&mut conn)
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
    for (n, item) in page["approvals"].as_array().unwrap().iter().enumerate() {
        let id = item["id"].as_str().unwrap();
        let run = item["run_id"].as_str().unwrap().to_string();
        // every other decision after a pause, as people decide apart: the
        // one before it has gone on by then (back to back, a decision's
        // transaction can hold the write lock while the engine goes on
        // with the one before: that queue is in the other half)
        let paced = n % 2 == 1;
        if paced {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (t0, sent_at) = (now_ms(), Instant::now());
        let res = approver
            .post(format!("{}/api/v1/approvals/{id}/decision", server.base))
            .json(&json!({"decision": "approve"}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        answer_ms.push(sent_at.elapsed().as_secs_f64() * 1000.0);
        sent.push((run, t0, paced));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut next_ms, mut paced_ms) = (Vec::new(), Vec::new());
    for (run, t0, paced) in &sent {
        let started: Option<i64> = app::store::conn::query_scalar(
            "SELECT started_at FROM steps WHERE run_id = $1 AND node_id = 'end'",
        )
        .bind(run)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        let ms = (started.expect("the next step started") - t0) as f64;
        match paced {
            true => paced_ms.push(ms),
            false => next_ms.push(ms),
        }
    }
    next_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    paced_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    answer_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let decision_line = json!({
        "workload": "decision-to-next-step",
        "decisions": sent.len(),
        "answer_p50_ms": (percentile(&answer_ms, 0.5) * 10.0).round() / 10.0,
        "p50_ms": percentile(&next_ms, 0.5),
        "p99_ms": percentile(&next_ms, 0.99),
        "paced_p50_ms": percentile(&paced_ms, 0.5),
        "paced_p99_ms": percentile(&paced_ms, 0.99),
    });
    vec![inbox_line, decision_line]
}

/// Times `n` GETs of `url` (ms, sorted).
pub(crate) async fn time_gets(http: &reqwest::Client, url: &str, n: usize) -> Vec<f64> {
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

pub(crate) fn timing_line(name: &str, ms: &[f64], extra: Value) -> Value {
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
pub async fn history(bin: &str) -> Vec<Value> {
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
    // a write through the server's gate (publishing the version): the
    // answer its start kept stands no longer, so what is timed is the read
    // (the run view's own page reads the database too)
    let url = format!("{}/api/v1/workflows/{wf}/published", server.base);
    put_ok(&http, &url, json!({"version": 1})).await;
    let view_ms = time_gets(&http, &format!("{}/api/v1/runs/{run}", server.base), 50).await;

    let db = server.open_db().await;
    let mut tx = db.write().await.unwrap();
    let base = now_ms() - RUNS * 1000;
    for i in 0..RUNS {
        let status = ["succeeded", "failed", "succeeded", "cancelled"][(i % 4) as usize];
        app::store::conn::query("INSERT INTO runs (id, workflow_id, version, status, input, started_by, created_at, finished_at)
             VALUES ($1, $2, 1, $3, $4, 'bench', $5, $6)",
        )
        .bind(format!("run_bench_{i:06}"))
        .bind(&wf)
        .bind(status)
        .bind(format!("{{\"n\": {i}, \"customer\": \"c{}\"}}", i % 977))
        .bind(base + i * 1000)
        .bind(base + i * 1000 + 50)
        .execute(&mut tx)
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
