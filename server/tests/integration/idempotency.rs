//! `POST /api/v1/workflows/{id}/runs` with an `Idempotency-Key`: a client
//! that retries after a lost answer gets the run it started, never two.

use crate::rest_api::{Api, small_def};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

async fn start(
    api: &Api,
    wf: &str,
    key: &str,
    input: Value,
) -> (StatusCode, Value, Option<String>) {
    let req = Request::post(format!("/api/v1/workflows/{wf}/runs"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(Body::from(json!({ "input": input }).to_string()))
        .unwrap();
    let (s, b, h) = api.send(req).await;
    let replayed = h
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (s, b, replayed)
}

async fn run_count(api: &Api, wf: &str) -> u64 {
    let (s, page) = api.get(&format!("/api/v1/runs?workflow_id={wf}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["runs"].as_array().unwrap().len() as u64
}

#[tokio::test]
async fn a_repeated_key_returns_the_first_run_and_starts_no_other() {
    let api = Api::new().await;
    let (_, created) = api.create("Adder", small_def()).await;
    let wf = created["workflow_id"].as_str().unwrap().to_string();
    let (s, first, replayed) = start(&api, &wf, "order-1042", json!({"a": 2, "b": 3})).await;
    assert_eq!(
        (s, replayed.as_deref()),
        (StatusCode::ACCEPTED, Some("false")),
        "{first}"
    );
    let (s, again, replayed) = start(&api, &wf, "order-1042", json!({"a": 2, "b": 3})).await;
    assert_eq!(
        (s, replayed.as_deref()),
        (StatusCode::OK, Some("true")),
        "{again}"
    );
    assert_eq!(again["run_id"], first["run_id"]);
    // another key is another run
    let (s, other, _) = start(&api, &wf, "order-1043", json!({"a": 2, "b": 3})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_ne!(other["run_id"], first["run_id"]);
    assert_eq!(run_count(&api, &wf).await, 2);
    // the same key with another input is a different request: refused
    let (s, refused, _) = start(&api, &wf, "order-1042", json!({"a": 9, "b": 3})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another input"),
        "{refused}"
    );
    // the key is per workflow
    let (_, created) = api.create("Adder 2", small_def()).await;
    let wf2 = created["workflow_id"].as_str().unwrap().to_string();
    let (s, _, _) = start(&api, &wf2, "order-1042", json!({"a": 2, "b": 3})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(run_count(&api, &wf).await, 2);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_start_one_run() {
    let api = std::sync::Arc::new(Api::new().await);
    let (_, created) = api.create("Adder", small_def()).await;
    let wf = created["workflow_id"].as_str().unwrap().to_string();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (api, wf) = (api.clone(), wf.clone());
            tokio::spawn(async move { start(&api, &wf, "same", json!({"a": 1, "b": 1})).await })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    let mut fresh = 0;
    for t in tasks {
        let (s, body, replayed) = t.await.unwrap();
        assert!(
            s == StatusCode::ACCEPTED || s == StatusCode::OK,
            "{s} {body}"
        );
        fresh += (replayed.as_deref() == Some("false")) as u32;
        ids.insert(body["run_id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "every answer names the one run");
    assert_eq!(fresh, 1, "exactly one answer started it");
    assert_eq!(run_count(&api, &wf).await, 1);
}

#[tokio::test]
async fn careless_keys_are_refused_with_what_to_send() {
    let api = Api::new().await;
    let (_, created) = api.create("Adder", small_def()).await;
    let wf = created["workflow_id"].as_str().unwrap().to_string();
    for key in ["", &"k".repeat(256), "tab\there"] {
        let (s, body, _) = start(&api, &wf, key, json!({"a": 1, "b": 1})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{key:?}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{body}"
        );
    }
    let req = Request::post(format!("/api/v1/workflows/{wf}/runs"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            "idempotency-key",
            axum::http::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        )
        .body(Body::from(json!({"input": {"a": 1, "b": 1}}).to_string()))
        .unwrap();
    let (s, body, _) = api.send(req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(run_count(&api, &wf).await, 0);
}
