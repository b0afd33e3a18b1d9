//! Sub-workflow steps on the manual clock: the child's output becomes the
//! step's, a failed child fails the step, cancelling the parent cancels the
//! child, a workflow that calls itself stops at the depth bound.

use crate::common::world::World;
use app::domain::audit::Actor;
use app::domain::run::{RunOrigin, RunStatus};
use serde_json::{Value, json};

/// Publishing with no golden-set gate to judge.
const CHECK: app::ops::workflows::Gate<'static> = app::ops::workflows::Gate::Check(None);

async fn workflow(w: &World, def: Value, publish: bool) -> String {
    let def = serde_json::from_value(def).unwrap();
    let wf = app::ops::workflows::create(
        &w.db,
        &Actor::anonymous(),
        &format!("wf {}", fastrand::u64(..)),
        &def,
        false,
        1,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    if publish {
        app::ops::workflows::publish(&w.db, &Actor::anonymous(), &wf.workflow_id, 1, CHECK, 1)
            .await
            .unwrap();
    }
    wf.workflow_id
}

fn parent(child: &str, input: Option<&str>) -> Value {
    json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "sub", "name": "Sub", "type": "sub_workflow", "workflow_id": child, "input": input},
            {"id": "end", "name": "End", "type": "end", "output": ".steps.sub.output"}
        ],
        "edges": [{"from": "start", "to": "sub"}, {"from": "sub", "to": "end"}]
    })
}

/// A published workflow that fails with `message`.
async fn failing_child(w: &World, message: &str) -> String {
    let def = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "no", "name": "No", "type": "fail", "message": message}
        ],
        "edges": [{"from": "start", "to": "no"}]
    });
    workflow(w, def, true).await
}

async fn start(w: &World, wf: &str, input: Value) -> String {
    app::ops::runs::start(
        &w.db,
        &Actor::anonymous(),
        wf,
        None,
        &input,
        app::ops::runs::Via::Api,
        1,
    )
    .await
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn a_sub_workflow_step_answers_with_its_child_runs_output() {
    let w = World::new().await;
    let child = workflow(&w, json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "t", "name": "T", "type": "transform", "expression": "{doubled: (.input.n * 2)}"},
            {"id": "end", "name": "End", "type": "end", "output": ".steps.t.output"}
        ],
        "edges": [{"from": "start", "to": "t"}, {"from": "t", "to": "end"}]
    }), true).await;
    let wf = workflow(&w, parent(&child, Some("{n: .input.n}")), false).await;
    let run = start(&w, &wf, json!({"n": 21})).await;
    let done = w.succeeded(&run).await;
    assert_eq!(done.output, Some(json!({"doubled": 42})));
    let mut conn = w.db.acquire().await.unwrap();
    let (child_id, status, _, _) = app::store::runs::child_of(&mut conn, &run, "sub")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, RunStatus::Succeeded);
    let c = w.run(&child_id).await.run;
    assert_eq!(
        (
            c.origin,
            c.parent_run_id.as_deref(),
            c.parent_node_id.as_deref()
        ),
        (RunOrigin::Parent, Some(run.as_str()), Some("sub"))
    );
    assert_eq!(c.input, json!({"n": 21}));
    // the parent's page links its step to the child
    assert_eq!(
        w.run(&run).await.children.get("sub"),
        Some(&child_id.to_string())
    );
}

#[tokio::test]
async fn a_failed_child_fails_the_step_and_an_unpublished_child_is_named() {
    let w = World::new().await;
    let child = failing_child(&w, "refused by the child").await;
    let wf = workflow(&w, parent(&child, None), false).await;
    let run = start(&w, &wf, json!({})).await;
    w.idle().await;
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Failed);
    assert!(
        r.error
            .as_deref()
            .unwrap_or_default()
            .contains("refused by the child"),
        "{:?}",
        r.error
    );

    let draft = workflow(&w, json!({"nodes": [{"id": "start", "name": "Start", "type": "start"}, {"id": "end", "name": "End", "type": "end"}],
        "edges": [{"from": "start", "to": "end"}]}), false).await;
    let wf = workflow(&w, parent(&draft, None), false).await;
    let run = start(&w, &wf, json!({})).await;
    w.idle().await;
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Failed);
    assert!(
        r.error
            .as_deref()
            .unwrap_or_default()
            .contains("no published version"),
        "{:?}",
        r.error
    );
}

#[tokio::test]
async fn cancelling_the_parent_cancels_the_child_waiting_for_a_person() {
    let w = World::new().await;
    let child = workflow(&w, json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ok", "name": "OK", "type": "approval", "title": "OK?", "approvers": {"roles": ["admin"]}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end"}]
    }), true).await;
    let wf = workflow(&w, parent(&child, None), false).await;
    let run = start(&w, &wf, json!({})).await;
    w.idle().await;
    let mut conn = w.db.acquire().await.unwrap();
    let (child_id, status, _, _) = app::store::runs::child_of(&mut conn, &run, "sub")
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    assert_eq!(status, RunStatus::Running);
    app::ops::runs::cancel(&w.db, &Actor::anonymous(), &run, 2)
        .await
        .unwrap();
    let c = w.run(&child_id).await.run;
    assert_eq!(c.status, RunStatus::Cancelled);
    assert!(c.error.unwrap_or_default().contains("parent run"));
}

#[tokio::test]
async fn a_workflow_calling_itself_is_refused_and_one_stored_anyway_stops_at_the_depth_bound() {
    let w = World::new().await;
    // made first, then pointed at itself
    let wf = workflow(&w, parent("wf_placeholder", None), false).await;
    let def: app::domain::WorkflowDef = serde_json::from_value(parent(&wf, None)).unwrap();
    let e = app::ops::workflows::save_version(&w.db, &Actor::anonymous(), &wf, &def, false, 1)
        .await
        .unwrap_err();
    assert!(
        e.problems[0].message.contains("so this workflow again"),
        "{e:?}"
    );
    // stored behind the checks' back (an older database, say), the run
    // still stops
    let mut tx = w.db.write().await.unwrap();
    let v = app::store::workflows::add_version(&mut tx, &wf, &def, 0, "test", 1)
        .await
        .unwrap();
    app::store::workflows::set_published(&mut tx, &wf, Some(v), "test", 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let run = start(&w, &wf, json!({})).await;
    w.idle().await;
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Failed, "{r:?}");
    let runs: i64 = app::store::conn::query_scalar("SELECT COUNT(*) FROM runs")
        .fetch_one(&mut w.db.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(runs, server::engine::SUB_WORKFLOW_MAX_DEPTH, "{r:?}");
    let deepest: Option<String> = app::store::conn::query_scalar(
        "SELECT error FROM runs WHERE error LIKE '%nested%' LIMIT 1",
    )
    .fetch_one(&mut w.db.acquire().await.unwrap())
    .await
    .unwrap();
    assert!(deepest.is_some());
}

#[tokio::test]
async fn a_call_back_through_another_workflow_is_refused_on_save_and_publish() {
    let w = World::new().await;
    // b calls nothing yet; a calls b
    let b = workflow(
        &w,
        json!({"nodes": [{"id": "start", "name": "Start", "type": "start"}, {"id": "end", "name": "End", "type": "end"}],
               "edges": [{"from": "start", "to": "end"}]}),
        true,
    )
    .await;
    let a = workflow(&w, parent(&b, None), true).await;
    // b's next version would call a, which calls b
    let def: app::domain::WorkflowDef = serde_json::from_value(parent(&a, None)).unwrap();
    let e = app::ops::workflows::save_version(&w.db, &Actor::anonymous(), &b, &def, false, 1)
        .await
        .unwrap_err();
    assert!(
        e.problems[0].message.contains(&format!("{a} → {b}")),
        "{e:?}"
    );
    // saved as a draft (the designer may), it shows the problem and cannot be published
    let saved = app::ops::workflows::save_version(&w.db, &Actor::anonymous(), &b, &def, true, 1)
        .await
        .unwrap();
    assert!(
        saved
            .problems
            .iter()
            .any(|p| p.node.as_deref() == Some("sub"))
    );
    let e = app::ops::workflows::publish(&w.db, &Actor::anonymous(), &b, saved.version, CHECK, 1)
        .await
        .unwrap_err();
    assert!(e.message.contains("cannot be published"), "{}", e.message);
}

#[tokio::test]
async fn an_endless_input_mapping_fails_the_step_without_starting_a_child() {
    let w = World::new().await;
    let child = workflow(&w, json!({"nodes": [{"id": "start", "name": "Start", "type": "start"}, {"id": "end", "name": "End", "type": "end"}],
        "edges": [{"from": "start", "to": "end"}]}), true).await;
    let wf = workflow(&w, parent(&child, Some("def f: f; f")), false).await;
    let run = start(&w, &wf, json!({})).await;
    // a format error is retried once (the default policy), a second later
    for _ in 0..3 {
        w.idle().await;
        w.clock.advance(60_000);
    }
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Failed);
    assert!(
        r.error
            .as_deref()
            .unwrap_or_default()
            .contains("the input mapping failed"),
        "{:?}",
        r.error
    );
    let children: i64 =
        app::store::conn::query_scalar("SELECT COUNT(*) FROM runs WHERE parent_run_id IS NOT NULL")
            .fetch_one(&mut w.db.acquire().await.unwrap())
            .await
            .unwrap();
    assert_eq!(children, 0);
}

#[tokio::test]
async fn a_failed_child_takes_the_steps_error_edge_when_there_is_one() {
    let w = World::new().await;
    let child = failing_child(&w, "out of stock").await;
    let wf = workflow(
        &w,
        json!({
            "nodes": [
                {"id": "start", "name": "Start", "type": "start"},
                {"id": "sub", "name": "Sub", "type": "sub_workflow", "workflow_id": child},
                {"id": "end", "name": "End", "type": "end"},
                {"id": "sorry", "name": "Sorry", "type": "end", "output": "{handled: true}"}
            ],
            "edges": [
                {"from": "start", "to": "sub"},
                {"from": "sub", "to": "end"},
                {"from": "sub", "port": "error", "to": "sorry"}
            ]
        }),
        false,
    )
    .await;
    let run = start(&w, &wf, json!({})).await;
    let done = w.succeeded(&run).await;
    assert_eq!(done.output, Some(json!({"handled": true})));
    let step = w.step(&run, "sub").await;
    assert_eq!(step.port.as_deref(), Some("error"));
    assert!(
        step.error
            .as_deref()
            .unwrap_or_default()
            .contains("out of stock")
    );
}
