//! Test runs of an unsaved working copy (issue 13): the copy is kept with
//! the run and runs as it was on the canvas; the saved versions and their
//! list do not change; a copy with problems is refused and nothing stored.

use crate::common::world::*;
use app::domain::audit::Actor;
use app::domain::run::RunStatus;
use serde_json::json;

#[tokio::test]
async fn a_test_run_runs_the_unsaved_copy_and_leaves_the_saved_versions_alone() {
    let w = World::new().await;
    let saved = def(
        vec![
            start(),
            transform("calc", "{v: 1}"),
            end("end", Some(".steps.calc.output")),
        ],
        vec![("start", "out", "calc"), ("calc", "out", "end")],
    );
    let wf = app::ops::workflows::create(&w.db, &Actor::anonymous(), "Tested", &saved, false, T0)
        .await
        .unwrap();
    // the canvas changed the expression; nothing was saved
    let mut copy = saved.clone();
    copy.nodes[1] = transform("calc", "{v: 2}");
    let actor = Actor("user:ed".into());
    let now = w.clock.now_ms();
    let run = app::ops::runs::start_test(&w.db, &actor, &wf.workflow_id, &copy, &json!({}), now)
        .await
        .unwrap();
    w.idle().await;
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
    assert_eq!(
        r.output,
        Some(json!({"v": 2})),
        "the copy ran, not version 1"
    );
    assert_eq!(r.version, -1);
    assert!(app::domain::records::is_test_version(r.version));
    // the versions are as saved; the snapshot is kept with the run
    let versions = app::ops::workflows::versions(&w.db, &wf.workflow_id)
        .await
        .unwrap();
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [1]);
    let latest = app::ops::workflows::get(&w.db, &wf.workflow_id, None)
        .await
        .unwrap();
    assert_eq!(latest.version, 1);
    let kept = app::ops::workflows::get(&w.db, &wf.workflow_id, Some(-1))
        .await
        .unwrap();
    assert_eq!(kept.definition, copy);
    // a second test run gets its own snapshot
    let again = app::ops::runs::start_test(&w.db, &actor, &wf.workflow_id, &saved, &json!({}), now)
        .await
        .unwrap();
    assert_eq!(w.run(&again).await.run.version, -2);
    // the audit says it was a test
    let ev = w.event("run.started", Some(&run)).await;
    assert_eq!(ev.details["test"], json!(true));
    assert_eq!(ev.actor, "user:ed");
}

#[tokio::test]
async fn a_working_copy_with_problems_is_refused_and_nothing_is_stored() {
    let w = World::new().await;
    let saved = app::domain::WorkflowDef::minimal();
    let wf = app::ops::workflows::create(&w.db, &Actor::anonymous(), "Broken", &saved, false, T0)
        .await
        .unwrap();
    let mut copy = saved.clone();
    copy.edges.clear();
    let e = app::ops::runs::start_test(
        &w.db,
        &Actor::anonymous(),
        &wf.workflow_id,
        &copy,
        &json!({}),
        w.clock.now_ms(),
    )
    .await
    .unwrap_err();
    assert!(
        e.message.starts_with("the working copy cannot run"),
        "{}",
        e.message
    );
    assert!(!e.problems.is_empty());
    assert!(
        app::ops::workflows::get(&w.db, &wf.workflow_id, Some(-1))
            .await
            .is_err()
    );
    // and a workflow that does not exist is named
    let e =
        app::ops::runs::start_test(&w.db, &Actor::anonymous(), "wf_nope", &saved, &json!({}), 1)
            .await
            .unwrap_err();
    assert!(e.message.contains("wf_nope"), "{}", e.message);
}
