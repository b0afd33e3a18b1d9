//! A run its REST start ended is kept as its transaction read it, and
//! `GET /api/v1/runs/{id}` answers with that while nothing written since
//! may have changed it (`engine::views`). On PostgreSQL nothing is kept.

use crate::rest_api::{Api, small_def};
use app::store::conn::Backend;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Starts a run of `wf` (202); its id.
async fn start(api: &Api, wf: &str, input: Value) -> String {
    let (status, body) = crate::sync_start::start(api, wf, "", input).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["run_id"].as_str().unwrap().to_string()
}

/// The run as the database holds it now, as `GET` answers it.
async fn stored(api: &Api, id: &str) -> Value {
    serde_json::to_value(app::ops::runs::get(&api.db, id).await.unwrap()).unwrap()
}

async fn get(api: &Api, id: &str) -> Value {
    let (status, run) = api.get(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    run
}

fn sqlite(api: &Api) -> bool {
    api.db.backend() == Backend::Sqlite
}

#[tokio::test]
async fn a_run_its_start_ended_is_answered_as_stored_and_without_a_read() {
    let api = Api::new().await;
    let (_, created) = api.create("Kept", small_def()).await;
    let wf = created["workflow_id"].as_str().unwrap();
    let id = start(&api, wf, json!({"a": 2, "b": 3})).await;
    let kept = get(&api, &id).await;
    assert_eq!(kept["status"], "succeeded", "{kept}");
    assert_eq!(kept["output"], 5, "{kept}");
    assert_eq!(kept["workflow_name"], "Kept", "{kept}");
    // exactly what a read of the database gives
    assert_eq!(kept, stored(&api, &id).await);
    if !sqlite(&api) {
        assert_eq!(api.engine.kept_views(), 0, "nothing is kept on PostgreSQL");
        return;
    }
    assert_eq!(api.engine.kept_views(), 1);
    // the answer came from memory: a change made behind the engine's back
    // (not through the write gate, as nothing of this process writes) is
    // not looked for
    let mut conn = api.db.acquire().await.unwrap();
    app::store::conn::query("UPDATE runs SET error = 'behind its back' WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(get(&api, &id).await, kept);
    assert_ne!(stored(&api, &id).await, kept, "the database did change");
}

#[tokio::test]
async fn a_write_through_the_gate_or_a_rename_makes_the_next_answer_a_read() {
    let api = Api::new().await;
    let (_, created) = api.create("Before", small_def()).await;
    let wf = created["workflow_id"].as_str().unwrap();
    let id = start(&api, wf, json!({"a": 1, "b": 1})).await;
    // any write that may change what exists: here the run's error
    let mut tx = api.db.write().await.unwrap();
    app::store::conn::query("UPDATE runs SET error = 'changed since' WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(get(&api, &id).await["error"], "changed since");
    // a run started after it is kept again, and a rename of its workflow
    // (through the operation the designer calls) is seen at once
    let id = start(&api, wf, json!({"a": 1, "b": 1})).await;
    assert_eq!(get(&api, &id).await["workflow_name"], "Before");
    let actor = app::domain::audit::Actor("admin".into());
    app::ops::workflows::rename(&api.db, &actor, wf, "After", app::ops::now_ms())
        .await
        .unwrap();
    let run = get(&api, &id).await;
    assert_eq!(run["workflow_name"], "After", "{run}");
    assert_eq!(run, stored(&api, &id).await);
}

#[tokio::test]
async fn a_synchronous_start_or_a_large_run_is_not_kept_and_reads_the_same() {
    let api = Api::new().await;
    let (_, created) = api.create("Large", small_def()).await;
    let wf = created["workflow_id"].as_str().unwrap();
    // 60 KB of input, in the run and again in its Start's output: over
    // the 64 KiB an answer may take to be kept
    let big = "x".repeat(60_000);
    let id = start(&api, wf, json!({"a": 1, "b": 2, "note": big})).await;
    assert_eq!(api.engine.kept_views(), 0);
    let run = get(&api, &id).await;
    assert_eq!(run["output"], 3, "{}", run["error"]);
    assert_eq!(run["input"]["note"].as_str().map(str::len), Some(60_000));
    // a synchronous start answers with the run itself, so keeps nothing
    let input = json!({"a": 1, "b": 2});
    let (status, run) = crate::sync_start::start(&api, wf, "?wait_ms=5000", input).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(api.engine.kept_views(), 0);
    assert_eq!(get(&api, run["id"].as_str().unwrap()).await, run);
}
