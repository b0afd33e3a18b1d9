//! Control flow: one run whose For each takes 1,000 items (two Transforms
//! each, 16 at a time), and 100 runs that each call a 3-step child through
//! a Sub-workflow step.

use super::{Server, call_json, closed_loop, create, latencies, percentile};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ITEMS: usize = 1000;

/// `foreach-1000`: the run's wall time (the server's created → finished)
/// and the body steps per second over it.
pub async fn foreach(bin: &str) -> Value {
    let server = Server::start(bin);
    let http = server.client();
    let t = |id: &str, e: &str| json!({"id": id, "name": id, "type": "transform", "expression": e, "parent": "each"});
    let def = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "each", "name": "Each", "type": "for_each", "items": format!("[range({ITEMS})]"), "concurrency": 16},
            {"id": "item", "name": "Item", "type": "start", "parent": "each"},
            t("double", "{n: (.item * 2)}"),
            t("label", "{n: .steps.double.output.n, label: \"item \\(.index)\"}"),
            {"id": "done", "name": "Done", "type": "end", "output": ".steps.label.output", "parent": "each"},
            {"id": "end", "name": "End", "type": "end", "output": "{total: .steps.each.output.total}"}
        ],
        "edges": [
            {"from": "start", "to": "each"}, {"from": "each", "to": "end"},
            {"from": "item", "to": "double"}, {"from": "double", "to": "label"}, {"from": "label", "to": "done"}
        ]
    });
    let wf = create(&http, &server.base, "foreach-1000", def, false).await;
    let started = Instant::now();
    let res: Value = call_json(
        http.post(format!("{}/api/v1/workflows/{wf}/runs", server.base))
            .json(&json!({"input": {}})),
    )
    .await;
    let id = res["run_id"].as_str().expect("run started").to_string();
    let run = loop {
        let run: Value =
            call_json(http.get(format!("{}/api/v1/runs/{id}?wait_ms=60000", server.base))).await;
        if run["status"] != "running" {
            break run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the run did not end"
        );
    };
    assert_eq!(run["status"], "succeeded", "{}", run["error"]);
    assert_eq!(run["output"]["total"], ITEMS);
    let wall_ms = run["finished_at"].as_i64().unwrap() - run["created_at"].as_i64().unwrap();
    // each item runs its body's four steps; the run itself three
    let steps = ITEMS * 4 + 3;
    json!({
        "workload": "foreach-1000",
        "runs": 1,
        "items": ITEMS,
        "steps": steps,
        "seconds": wall_ms as f64 / 1000.0,
        "steps_per_s": (steps as f64 / (wall_ms.max(1) as f64 / 1000.0)).round(),
        "rss_mb": server.rss_mb(),
    })
}

/// `subworkflow-100`: 100 parent runs (4 clients), each calling a 3-step
/// child; parent run latency.
pub async fn subworkflow(bin: &str) -> Value {
    let server = Server::start(bin);
    let http = server.client();
    let child = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "t", "name": "T", "type": "transform", "expression": "{n: ((.input.n // 0) + 1)}"},
            {"id": "end", "name": "End", "type": "end", "output": ".steps.t.output"}
        ],
        "edges": [{"from": "start", "to": "t"}, {"from": "t", "to": "end"}]
    });
    let child = create(&http, &server.base, "child", child, true).await;
    let parent = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "sub", "name": "Sub", "type": "sub_workflow", "workflow_id": child},
            {"id": "end", "name": "End", "type": "end", "output": ".steps.sub.output"}
        ],
        "edges": [{"from": "start", "to": "sub"}, {"from": "sub", "to": "end"}]
    });
    let wf = create(&http, &server.base, "parent", parent, false).await;
    let runs = 100;
    let (ids, seconds) = closed_loop(
        &http,
        &server.bases,
        &wf,
        (runs, 4),
        super::Ask::StartThenWait,
    )
    .await;
    let l = latencies(&http, &server.base, &ids).await;
    json!({
        "workload": "subworkflow-100",
        "runs": runs,
        "steps": runs * 6,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "steps_per_s": ((runs * 6) as f64 / seconds).round(),
        "p50_ms": percentile(&l, 0.50),
        "p99_ms": percentile(&l, 0.99),
        "rss_mb": server.rss_mb(),
    })
}
