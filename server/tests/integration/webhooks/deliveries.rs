//! What a delivery becomes: mapping, schema, keys, answers, limits, test events.

use super::{LIMIT, Stack, three_steps};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn the_mapping_shapes_the_input_and_schema_errors_name_the_field_and_store_nothing() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let spec = json!({"headers": ["x-source"], "mapping": "{amount: (.body.total | tonumber), source: .headers[\"x-source\"], q: .query.ref}"});
    let (path, key, _) = st.hook(&wf, spec).await;
    let (s, b) = st
        .deliver(
            &format!("{path}?ref=abc"),
            &key,
            None,
            r#"{"total": "7"}"#,
            &[("x-source", "erp")],
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let (_, run) = st
        .api(
            "GET",
            &format!("/api/v1/runs/{}", b["run_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        run["input"],
        json!({"amount": 7, "source": "erp", "q": "abc"})
    );
    let before = st.count("SELECT COUNT(*) FROM runs").await;
    // the mapping fails
    let (s, b) = st
        .deliver(&path, &key, None, r#"{"total": "seven"}"#, &[])
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the mapping failed"),
        "{b}"
    );
    // the input misses a field the Start schema requires
    let wf2 = st.workflow(three_steps(), true).await;
    let (path2, key2, _) = st.hook(&wf2, json!({})).await;
    let (s, b) = st
        .deliver(&path2, &key2, None, r#"{"amont": 1}"#, &[])
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("amount"),
        "{b}"
    );
    // not JSON
    let (s, b) = st.deliver(&path2, &key2, None, "amount=1", &[]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, before);
}

#[tokio::test]
async fn a_hundred_concurrent_deliveries_with_ten_keys_start_exactly_ten_runs() {
    let st = Arc::new(Stack::new().await);
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, _) = st.hook(&wf, json!({})).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let (st, path, key) = (st.clone(), path.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let k = format!("invoice-{}", i % 10);
            // each sender signs its own request (different timestamps are fine)
            let body = format!(r#"{{"amount": {}}}"#, i % 10);
            let (s, b) = st
                .deliver(&path, &key, None, &body, &[("idempotency-key", &k)])
                .await;
            (k, s, b["run_id"].as_str().unwrap_or_default().to_string())
        }));
    }
    let mut by_key: std::collections::HashMap<String, std::collections::HashSet<String>> =
        Default::default();
    for t in tasks {
        let (k, s, run) = t.await.unwrap();
        assert!(s == 202 || s == 200, "{s}");
        by_key.entry(k).or_default().insert(run);
    }
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 10);
    assert_eq!(by_key.len(), 10);
    assert!(by_key.values().all(|runs| runs.len() == 1), "{by_key:?}");
}

#[tokio::test]
async fn a_delivery_key_from_a_jq_path_dedups_across_different_bodies() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, _) = st.hook(&wf, json!({"dedup": {"path": ".body.id"}})).await;
    let (_, a) = st
        .deliver(&path, &key, None, r#"{"id": "inv-1", "amount": 1}"#, &[])
        .await;
    let (s, b) = st
        .deliver(&path, &key, None, r#"{"id": "inv-1", "amount": 2}"#, &[])
        .await;
    assert_eq!(s, 200);
    assert_eq!(a["run_id"], b["run_id"]);
    let (s, _) = st
        .deliver(&path, &key, None, r#"{"id": "inv-2", "amount": 2}"#, &[])
        .await;
    assert_eq!(s, 202);
}

#[tokio::test]
async fn synchronous_mode_answers_with_the_output_or_falls_back_to_202() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, _) = st.hook(&wf, json!({"response": {"mode": "sync"}})).await;
    let (s, b) = st.deliver(&path, &key, None, r#"{"amount": 4}"#, &[]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["status"].as_str(), &b["output"]),
        (Some("succeeded"), &json!({"amount": 8}))
    );
    // a run that waits for a person answers at once, saying so
    let approval = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ok", "name": "OK", "type": "approval", "title": "OK?", "approvers": {"roles": ["admin"]}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end"}]
    });
    let wf = st.workflow(approval, true).await;
    let (path, key, _) = st
        .hook(
            &wf,
            json!({"response": {"mode": "sync", "timeout_ms": 20000}}),
        )
        .await;
    let started = std::time::Instant::now();
    let (s, b) = st.deliver(&path, &key, None, "{}", &[]).await;
    assert_eq!(
        (s, b["status"].as_str()),
        (202, Some("waiting_for_people")),
        "{b}"
    );
    assert!(started.elapsed().as_millis() < 10_000);
    // a run longer than the timeout: 202 with where to look
    let slow = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "wait", "name": "Wait", "type": "delay", "duration_ms": 3000},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "end"}]
    });
    let wf = st.workflow(slow, true).await;
    let (path, key, _) = st
        .hook(
            &wf,
            json!({"response": {"mode": "sync", "timeout_ms": 300}}),
        )
        .await;
    let (s, b) = st.deliver(&path, &key, None, "{}", &[]).await;
    assert_eq!((s, b["status"].as_str()), (202, Some("running")), "{b}");
    assert!(b["message"].as_str().unwrap().contains("300 ms"));
}

#[tokio::test]
async fn without_a_published_version_a_paused_hook_or_an_oversized_body_nothing_runs() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), false).await;
    let (path, key, id) = st.hook(&wf, json!({"path": "invoices/incoming"})).await;
    assert_eq!(path, "/hooks/invoices/incoming");
    let (s, b) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[]).await;
    assert_eq!(s, 409, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no published version")
    );
    st.api(
        "PUT",
        &format!("/api/v1/workflows/{wf}/published"),
        Some(json!({"version": 1})),
    )
    .await;
    st.api("POST", &format!("/api/v1/triggers/{id}/pause"), None)
        .await;
    assert_eq!(
        st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[])
            .await
            .0,
        503
    );
    st.api("POST", &format!("/api/v1/triggers/{id}/resume"), None)
        .await;
    let big = format!(r#"{{"amount": 1, "pad": "{}"}}"#, "x".repeat(LIMIT));
    let (s, _) = st.deliver(&path, &key, None, &big, &[]).await;
    assert_eq!(s, 413);
    assert_eq!(
        st.deliver("/hooks/nothing-here", &key, None, "{}", &[])
            .await
            .0,
        404
    );
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 0);
    assert_eq!(
        st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[])
            .await
            .0,
        202
    );
    // another webhook cannot take the same path
    let (s, b) = st
        .api(
            "POST",
            &format!("/api/v1/workflows/{wf}/triggers"),
            Some(json!({"name": "x", "kind": "webhook", "path": "invoices/incoming"})),
        )
        .await;
    assert_eq!(s, 409, "{b}");
}

#[tokio::test]
async fn a_hostile_mapping_or_key_path_is_stopped_starts_nothing_and_is_listed_as_refused() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    // a mapping that never ends, and one that builds a huge value
    for mapping in ["def f: f; f", "[range(100000000)] | length | {amount: .}"] {
        let (path, key, _) = st.hook(&wf, json!({"mapping": mapping})).await;
        let started = std::time::Instant::now();
        let (s, b) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[]).await;
        assert_eq!(s, 422, "{mapping}: {b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("the mapping failed"),
            "{b}"
        );
        assert!(
            started.elapsed().as_secs() < 20,
            "{mapping} took {:?}",
            started.elapsed()
        );
    }
    let (path, key, _) = st.hook(&wf, json!({"dedup": {"path": "[.body]"}})).await;
    let (s, b) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[]).await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a string or number"),
        "{b}"
    );
    // a key longer than 500 characters
    let (path, key, _) = st.hook(&wf, json!({})).await;
    let long = "k".repeat(600);
    let (s, _) = st
        .deliver(
            &path,
            &key,
            None,
            r#"{"amount": 1}"#,
            &[("idempotency-key", &long)],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 0);
    let kept = "SELECT COUNT(*) FROM trigger_events WHERE outcome != 'refused'";
    assert_eq!(st.count(kept).await, 0);
    // each refusal is listed on its webhook's panel
    let refused = "SELECT COUNT(*) FROM trigger_events WHERE outcome = 'refused'";
    assert_eq!(st.count(refused).await, 4);
}

#[tokio::test]
async fn a_key_older_than_its_retention_window_starts_a_new_run_and_duplicates_are_listed() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, id) = st
        .hook(&wf, json!({"dedup": {"retention_ms": 60000}}))
        .await;
    let k = [("idempotency-key", "inv-9")];
    let (_, first) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &k).await;
    let (s, again) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &k).await;
    assert_eq!((s, &again["run_id"]), (200, &first["run_id"]));
    let (_, t) = st.api("GET", &format!("/api/v1/triggers/{id}"), None).await;
    let outcomes: Vec<&str> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["duplicate", "started"], "{t}");
    // the first delivery is now two minutes old: outside its minute
    app::store::conn::query("UPDATE trigger_events SET at = at - 120000")
        .execute(&mut st.db.acquire().await.unwrap())
        .await
        .unwrap();
    let (s, later) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &k).await;
    assert_eq!(s, 202, "{later}");
    assert_ne!(later["run_id"], first["run_id"]);
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 2);
}
