//! A synchronous start (`POST /api/v1/workflows/{id}/runs?wait_ms=N`):
//! one request that answers with the run once it ended.

use crate::rest_api::{Api, queued_def, small_def};
use axum::http::StatusCode;
use serde_json::{Value, json};

pub(crate) async fn start(api: &Api, id: &str, query: &str, input: Value) -> (StatusCode, Value) {
    api.json(
        "POST",
        &format!("/api/v1/workflows/{id}/runs{query}"),
        json!({ "input": input }).to_string(),
    )
    .await
}

#[tokio::test]
async fn a_synchronous_start_of_pure_steps_answers_with_the_ended_run_and_its_output() {
    let api = Api::new().await;
    let (_, created) = api.create("Sync adder", small_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (status, run) = start(&api, id, "?wait_ms=5000", json!({"a": 2, "b": 3})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], 5, "{run}");
    assert_eq!(run["steps"].as_array().unwrap().len(), 4, "{run}");
    // the same run as a later read shows it
    let (_, read) = api
        .get(&format!("/api/v1/runs/{}", run["id"].as_str().unwrap()))
        .await;
    assert_eq!(read, run);
    // and one that fails answers failed, with the step's error
    let (status, run) = start(
        &api,
        id,
        "?wait_ms=5000",
        json!({"a": 1, "b": 1, "fail": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("asked to fail"),
        "{run}"
    );
}

#[tokio::test]
async fn a_synchronous_start_waits_for_the_workers_and_without_wait_ms_answers_202() {
    let api = Api::new().await;
    let (_, created) = api.create("Sync queued", queued_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let engine = api.engine.clone();
    let worker = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        engine.run_until_idle().await.unwrap();
    });
    let (status, run) = start(&api, id, "?wait_ms=10000", json!({"a": 1, "b": 2})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], 3, "{run}");
    worker.await.unwrap();
    // wait_ms=0 is the asynchronous start
    let (status, body) = start(&api, id, "?wait_ms=0", json!({"a": 1, "b": 2})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(body["run_id"].is_string(), "{body}");
    assert!(body.get("status").is_none(), "{body}");
}

#[tokio::test]
async fn a_synchronous_start_that_outlasts_its_wait_answers_with_the_run_still_running() {
    let api = Api::new().await;
    let (_, created) = api.create("Sync held", queued_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    // nothing runs the Code step: the wait runs out
    let started = std::time::Instant::now();
    let (status, run) = start(&api, id, "?wait_ms=300", json!({"a": 1, "b": 2})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["status"], "running", "{run}");
    assert!(
        started.elapsed().as_millis() >= 300,
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_synchronous_start_refuses_a_bad_wait_and_starts_nothing() {
    let api = Api::new().await;
    let (_, created) = api.create("Sync refused", small_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    for query in ["?wait_ms=soon", "?wait_ms=-1", "?wait=5", "?wait_ms=1e3"] {
        let (status, body) = start(&api, id, query, json!({"a": 1, "b": 2})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("wait"), "{query}: {message}");
    }
    let (_, page) = api.get("/api/v1/runs").await;
    assert_eq!(page["runs"].as_array().unwrap().len(), 0, "{page}");
    // a wait past the limit is the limit, not an error
    let (status, run) = start(&api, id, "?wait_ms=99999999999", json!({"a": 1, "b": 2})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["status"], "succeeded", "{run}");
}

/// A start evaluates its opening for the version this process last read
/// while it reads which version to run; the read decides.
#[tokio::test]
async fn a_start_runs_the_version_its_read_names_after_a_save_a_publish_or_a_delete() {
    let api = Api::new().await;
    let (_, created) = api.create("Sync versions", small_def()).await;
    let id = created["workflow_id"].as_str().unwrap().to_string();
    let sync = |a: i64| {
        let (api, id) = (&api, id.clone());
        async move {
            let (status, run) = start(api, &id, "?wait_ms=5000", json!({"a": a, "b": 3})).await;
            (status, run["version"].clone(), run["output"].clone(), run)
        }
    };
    // version 1 adds, twice: the second start has version 1 remembered
    for _ in 0..2 {
        let (status, version, output, run) = sync(2).await;
        assert_eq!(
            (status, version, output),
            (StatusCode::OK, json!(1), json!(5)),
            "{run}"
        );
    }
    // version 2 multiplies; nothing is published, so the latest runs
    let mut times = small_def();
    times["nodes"][1]["expression"] = json!("{total: (.input.a * .input.b)}");
    let (status, saved) = api
        .json(
            "PUT",
            &format!("/api/v1/workflows/{id}"),
            json!({"definition": times}).to_string(),
        )
        .await;
    assert!(status.is_success(), "{saved}");
    let (status, version, output, run) = sync(2).await;
    assert_eq!(
        (status, version, output),
        (StatusCode::OK, json!(2), json!(6)),
        "{run}"
    );
    // version 1 published: it runs again
    let published = format!("/api/v1/workflows/{id}/published");
    let (status, body) = api
        .json("PUT", &published, json!({"version": 1}).to_string())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, version, output, run) = sync(2).await;
    assert_eq!(
        (status, version, output),
        (StatusCode::OK, json!(1), json!(5)),
        "{run}"
    );
    // deleted: refused, and nothing more is started
    let (_, before) = api.get("/api/v1/runs").await;
    let req = axum::http::Request::delete(format!("/api/v1/workflows/{id}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, _, _) = api.send(req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _, body) = sync(2).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, after) = api.get("/api/v1/runs").await;
    assert_eq!(after, before);
}
