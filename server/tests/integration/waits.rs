//! Long polls on one run: woken by that run's notices, and answered by the
//! engine's own word that it ended the run without another look.

use crate::rest_api::{Api, queued_def};
use serde_json::json;
use std::time::Duration;

/// A run of a new workflow `name`, which nothing runs.
async fn started(api: &Api, name: &str) -> String {
    let (_, created) = api.create(name, queued_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (_, body) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{id}/runs"),
            json!({"input": {"a": 1, "b": 2}}).to_string(),
        )
        .await;
    body["run_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_engine_tells_that_it_ended_a_run() {
    let api = Api::new().await;
    let run_id = started(&api, "Ended").await;
    let changes = api.engine.changes();
    let ended = changes.watch(server::engine::ended_topic(&run_id));
    let told = ended.notified();
    tokio::pin!(told);
    told.as_mut().enable();
    api.engine.run_until_idle().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), told)
        .await
        .expect("the engine told that the run ended");
}

#[tokio::test]
async fn a_wait_for_the_end_takes_the_engines_word_without_looking_again() {
    let api = Api::new().await;
    let run_id = started(&api, "Waited on").await;
    let waiter = {
        let (engine, run_id) = (api.engine.clone(), run_id.clone());
        tokio::spawn(async move {
            engine
                .wait_for_end(&run_id, Duration::from_secs(30))
                .await
                .unwrap()
        })
    };
    // nothing ran the run: only the word that it ended can answer
    tokio::time::sleep(Duration::from_millis(100)).await;
    api.engine
        .changes()
        .hint_here(&server::engine::ended_topic(&run_id));
    let answered = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("answered on the engine's word, not at the end of its 30 s")
        .unwrap();
    assert!(answered, "the wait reports the run as ended");
    let (_, run) = api.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(
        run["status"], "running",
        "the store still has it running: the answer came from the word alone"
    );
}

#[tokio::test]
async fn another_runs_notice_does_not_answer_a_wait_for_the_end() {
    let api = Api::new().await;
    let (waited, other) = (
        started(&api, "Waited on").await,
        started(&api, "Another").await,
    );
    let waiter = {
        let (engine, run_id) = (api.engine.clone(), waited.clone());
        tokio::spawn(async move {
            engine
                .wait_for_end(&run_id, Duration::from_millis(1500))
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let changes = api.engine.changes();
    changes.hint_here(&server::engine::ended_topic(&other));
    changes.notify(format!("run:{other}"));
    assert!(
        !waiter.await.unwrap(),
        "the waited run is still running when the wait runs out"
    );
}
