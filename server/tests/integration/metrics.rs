//! `GET /metrics`: guarded by a token, parsed by an OpenMetrics (the
//! Prometheus exposition standard) text-format parser, with the engine's, the queue's, the inbox's and the HTTP
//! server's series present and moving as runs go through.

use crate::webhooks::Stack;
use openmetrics_parser::OpenMetricsValue;
use serde_json::json;
use std::collections::HashMap;

/// The samples of one scrape: (name, sorted labels) → value.
type Samples = HashMap<(String, Vec<(String, String)>), f64>;

async fn scrape(st: &Stack) -> Samples {
    let res = st
        .http
        .get(format!("{}/metrics", st.base))
        .bearer_auth(&st.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.unwrap();
    let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|e| panic!("not the OpenMetrics text format: {e:?}\n{text}"));
    let mut out = Samples::new();
    for (name, family) in parsed.families {
        for s in family.iter_samples() {
            let mut labels: Vec<(String, String)> = s
                .get_labelset()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            labels.sort();
            let value = match &s.value {
                OpenMetricsValue::Counter(c) => c.value.as_f64(),
                OpenMetricsValue::Gauge(n) | OpenMetricsValue::Unknown(n) => n.as_f64(),
                // a histogram: how many observations
                OpenMetricsValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                _ => continue,
            };
            out.insert((name.clone(), labels), value);
        }
    }
    out
}

/// The value of `name` with exactly `labels` (0 when absent).
fn value(s: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut want: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    want.sort();
    s.get(&(name.to_string(), want)).copied().unwrap_or(0.0)
}

/// The sum of `name` over every label set.
fn total(s: &Samples, name: &str) -> f64 {
    s.iter()
        .filter(|((n, _), _)| n == name)
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test]
async fn metrics_need_a_token_and_count_runs_steps_gates_queue_inbox_and_requests() {
    let st = Stack::new().await;
    let anonymous = st
        .http
        .get(format!("{}/metrics", st.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    // a threshold of 0.9: a sure step passes its gate, a doubtful one asks
    let def = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            // taken by a worker: the queue's wait is measured
            {"id": "hold", "name": "Hold", "type": "code",
             "source": "function main(ctx) { return ctx.input; }"},
            {"id": "judge", "name": "Judge", "type": "transform",
             "expression": "{verdict: \"ok\", confidence: .input.sure}"},
            {"id": "end", "name": "End", "type": "end", "output": ".steps.judge.output"}
        ],
        "edges": [{"from": "start", "to": "hold"}, {"from": "hold", "to": "judge"}, {"from": "judge", "to": "end"}],
        "settings": {"confidence_threshold": 0.9}
    });
    let wf = st.workflow(def, true).await;
    let before = scrape(&st).await;
    let runs = format!("/api/v1/workflows/{wf}/runs");
    let start = |sure: f64| st.api("POST", &runs, Some(json!({"input": {"sure": sure}})));
    let (s, sure) = start(0.95).await;
    assert_eq!(s, 202, "{sure}");
    let (s, doubtful) = start(0.5).await;
    assert_eq!(s, 202, "{doubtful}");
    let id = sure["run_id"].as_str().unwrap();
    let (_, r) = st
        .api("GET", &format!("/api/v1/runs/{id}?wait_ms=10000"), None)
        .await;
    assert_eq!(r["status"], "succeeded", "{r}");
    // the doubtful run's item is open (its step parked for a person)
    for _ in 0..100 {
        if st
            .count("SELECT COUNT(*) FROM approval_items WHERE status = 'pending'")
            .await
            == 1
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let after = scrape(&st).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let w = wf.as_str();
    assert_eq!(moved("stepwise_runs_started", &[("workflow", w)]), 2.0);
    assert_eq!(
        moved(
            "stepwise_runs_finished",
            &[("workflow", w), ("status", "succeeded")]
        ),
        1.0
    );
    assert!(
        moved(
            "stepwise_steps",
            &[("kind", "transform"), ("outcome", "succeeded")]
        ) >= 1.0
    );
    assert!(
        moved(
            "stepwise_steps",
            &[("kind", "transform"), ("outcome", "parked")]
        ) >= 1.0
    );
    assert!(moved("stepwise_gate_decisions", &[("result", "passed")]) >= 1.0);
    assert!(moved("stepwise_gate_decisions", &[("result", "escalated")]) >= 1.0);
    // histograms: their counts grew
    assert!(
        total(&after, "stepwise_step_confidence")
            >= total(&before, "stepwise_step_confidence") + 2.0
    );
    assert!(
        total(&after, "stepwise_step_duration_seconds")
            > total(&before, "stepwise_step_duration_seconds")
    );
    assert!(
        total(&after, "stepwise_step_queue_wait_seconds")
            > total(&before, "stepwise_step_queue_wait_seconds")
    );
    // read from the database when scraped
    assert_eq!(
        value(
            &after,
            "stepwise_waiting_items",
            &[("reason", "confidence")]
        ),
        1.0
    );
    assert_eq!(
        value(&after, "stepwise_waiting_items", &[("reason", "approval")]),
        0.0
    );
    assert_eq!(value(&after, "stepwise_ready_steps", &[]), 0.0);
    // SQLite: the writers' turns at the gate, counted as they were taken
    if st.db.backend() == app::store::conn::Backend::Sqlite {
        assert!(moved("stepwise_db_writes", &[]) >= 4.0, "{after:?}");
        assert!(moved("stepwise_db_write_held_seconds", &[]) > 0.0);
        assert!(total(&after, "stepwise_db_write_wait_seconds") >= 0.0);
    }
    // requests by route template, never by raw path
    assert!(
        moved(
            "stepwise_http_requests",
            &[
                ("method", "POST"),
                ("route", "/api/v1/workflows/{id}/runs"),
                ("status", "202")
            ]
        ) >= 2.0,
        "{after:?}"
    );
    assert!(
        after
            .keys()
            .all(|(_, labels)| labels.iter().all(|(_, v)| !v.contains("run_")))
    );
}

/// A server whose `/metrics` is `access`, and its base URL.
async fn serving(access: server::metrics::Access) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::common::fresh_db(dir.path()).await;
    let engine = crate::common::live_engine(&db);
    let mut state = crate::common::app_state(&db, engine, dir.path());
    state.metrics = access;
    let sessions = server::sessions::Sessions::open(&db).await.unwrap();
    let app = server::routes::router(state, sessions, 64 * 1024);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, dir)
}

#[tokio::test]
async fn metrics_can_be_public_for_a_private_scraper_or_off() {
    use server::metrics::Access;
    let (public, _a) = serving(Access::Public).await;
    let res = reqwest::get(format!("{public}/metrics")).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("# TYPE stepwise_ready_steps gauge"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
    let (off, _b) = serving(Access::Off).await;
    let res = reqwest::get(format!("{off}/metrics")).await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--metrics"),
        "{body}"
    );
}
