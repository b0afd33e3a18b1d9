//! What the engine keeps in memory stays bounded however many workflow
//! versions it meets (a careless or hostile author can save thousands).

use crate::common::world::*;
use app::domain::run::RunStatus;
use app::store::workflows::REMEMBERED_VERSIONS;
use serde_json::json;

#[tokio::test]
async fn the_engine_remembers_a_bounded_number_of_versions_and_still_runs_forgotten_ones() {
    let w = World::new().await;
    let flow = |k: usize| {
        def(
            vec![
                start(),
                transform("t", &format!("{{k: {k}}}")),
                end("end", Some(".steps.t.output.k")),
            ],
            vec![("start", "out", "t"), ("t", "out", "end")],
        )
    };
    // each a new workflow, so each run needs another version's graph
    let count = REMEMBERED_VERSIONS + 20;
    let mut ids = Vec::with_capacity(count);
    for k in 0..count {
        ids.push(w.start(flow(k), json!({})).await);
        if k % 32 == 31 {
            w.idle().await;
        }
    }
    w.idle().await;
    assert!(
        w.engine.definitions_remembered() <= REMEMBERED_VERSIONS,
        "{} graphs remembered, more than {REMEMBERED_VERSIONS}",
        w.engine.definitions_remembered()
    );
    for (k, id) in ids.iter().enumerate() {
        let r = w.run(id).await.run;
        assert_eq!(r.status, RunStatus::Succeeded, "run {k}: {:?}", r.error);
        assert_eq!(r.output, Some(json!(k)), "run {k} ran its own version");
    }
    // the first workflow's graph was forgotten long ago: a new run of it
    // reads it again and runs as before
    let first = w.run(&ids[0]).await.run.workflow_id;
    let again = app::ops::runs::start(
        &w.db,
        &app::domain::audit::Actor::anonymous(),
        &first,
        None,
        &json!({}),
        app::ops::runs::Via::Api,
        w.clock.now_ms(),
    )
    .await
    .unwrap_or_else(|e| panic!("cannot start the first workflow again: {e:?}"));
    let r = w.succeeded(again.as_ref()).await;
    assert_eq!(r.output, Some(json!(0)));
}
