//! `monitoring-100k`: the Monitoring page's query for a workflow with
//! 100,000 runs over 30 days (10 % of them stopped by a confidence gate,
//! with their items and decisions), inserted straight into the database;
//! the whole 30 days by day, timed 30 times, and the last 24 hours by hour.

use super::reads::{time_gets, timing_line};
use super::*;

pub async fn monitoring_100k(bin: &str) -> Value {
    const RUNS: i64 = 100_000;
    const DAY: i64 = 86_400_000;
    let server = Server::start(bin);
    let http = server.client();
    let def = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "classify", "name": "Classify", "type": "transform",
             "expression": "{label: \"ok\", confidence: .input.c}"},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "classify"}, {"from": "classify", "to": "end"}],
        "settings": {"confidence_threshold": 0.7}
    });
    let created: Value = call_json(
        http.post(format!("{}/api/v1/workflows", server.base))
            .json(&json!({"name": "monitored", "definition": def})),
    )
    .await;
    let wf = created["workflow_id"]
        .as_str()
        .expect("workflow")
        .to_string();
    let db = server.open_db().await;
    let now = now_ms();
    let from = now - 30 * DAY;
    let step = 30 * DAY / RUNS;
    let mut tx = db.write().await.unwrap();
    for i in 0..RUNS {
        let at = from + i * step;
        let gated = i % 10 == 0;
        let status = if gated {
            ["succeeded", "failed", "running"][(i / 10 % 3) as usize]
        } else {
            ["succeeded", "succeeded", "succeeded", "failed"][(i % 4) as usize]
        };
        let c = if gated {
            0.3 + (i % 7) as f64 * 0.05
        } else {
            0.75 + (i % 5) as f64 * 0.05
        };
        let id = format!("run_mon_{i:06}");
        app::store::conn::query(
            "INSERT INTO runs (id, workflow_id, version, status, input, started_by, created_at, finished_at, confidence, origin, gate_confidence)
             VALUES ($1, $2, 1, $3, '{}', 'bench', $4, $5, $6, 'api', $7)",
        )
        .bind(&id)
        .bind(&wf)
        .bind(status)
        .bind(at)
        .bind((status != "running").then_some(at + 50 + i % 500))
        .bind(if gated && status != "running" { 1.0 } else { c })
        .bind(gated.then_some(c))
        .execute(&mut tx)
        .await
        .unwrap();
        if !gated {
            continue;
        }
        app::store::conn::query(
            "INSERT INTO steps (run_id, node_id, status) VALUES ($1, 'classify', 'succeeded')",
        )
        .bind(&id)
        .execute(&mut tx)
        .await
        .unwrap();
        app::store::conn::query(
            "INSERT INTO step_attempts (run_id, node_id, attempt, worker, started_at, finished_at, outcome, confidence)
             VALUES ($1, 'classify', 1, 'bench', $2, $2, 'parked', $3)",
        )
        .bind(&id)
        .bind(at)
        .bind(c)
        .execute(&mut tx)
        .await
        .unwrap();
        let item_status = ["approved", "rejected", "pending"][(i / 10 % 3) as usize];
        app::store::conn::query(
            "INSERT INTO approval_items (id, run_id, node_id, workflow_id, workflow_name, node_name, reason, status,
                 title, instructions, roles, users, required, allow_self, started_by, form, proposed, context, created_at)
             VALUES ($1, $2, 'classify', $3, 'monitored', 'Classify', 'confidence', $4,
                 'Check', '', '[]', '[]', 1, FALSE, 'bench', '[]', '{}', '{}', $5)",
        )
        .bind(format!("item_mon_{i:06}"))
        .bind(&id)
        .bind(&wf)
        .bind(item_status)
        .bind(at)
        .execute(&mut tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let url = format!(
        "{}/api/v1/workflows/{wf}/monitoring?from={from}&to={}&granularity=day",
        server.base,
        now + 1
    );
    let check: Value = call_json(http.get(&url)).await;
    assert_eq!(check["figures"]["total"]["runs"], json!(RUNS));
    assert_eq!(check["figures"]["total"]["escalations"], json!(RUNS / 10));
    let month_ms = time_gets(&http, &url, 30).await;
    let day_url = format!(
        "{}/api/v1/workflows/{wf}/monitoring?from={}&to={}&granularity=hour",
        server.base,
        now - DAY,
        now + 1
    );
    let day_ms = time_gets(&http, &day_url, 30).await;
    timing_line(
        "monitoring-100k",
        &month_ms,
        json!({
            "runs": RUNS, "days": 30, "escalations": RUNS / 10,
            "last_24h_p50_ms": (percentile(&day_ms, 0.5) * 10.0).round() / 10.0,
            "rss_mb": server.rss_mb(),
        }),
    )
}
