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
    let r = w.succeeded(&run).await;
    assert_eq!(
        r.output,
        Some(json!({"v": 2})),
        "the copy ran, not version 1"
    );
    assert_eq!(r.version, -1);
    assert!(app::domain::records::is_test_version(r.version));
    assert_eq!(r.origin, app::domain::run::RunOrigin::Test);
    // the versions are as saved; the snapshot is kept with the run
    let versions =
        app::ops::workflows::versions(&w.db, &wf.workflow_id, app::domain::records::Paging::FIRST)
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
    // the runs list can leave test runs out of its figures, or show only them
    let real = w.start(saved.clone(), json!({})).await.to_string();
    assert_eq!(
        w.succeeded(&real).await.origin,
        app::domain::run::RunOrigin::Api
    );
    // each run says how it started: a re-run says so
    let again = app::ops::runs::rerun(&w.db, &actor, &real, false, w.clock.now_ms())
        .await
        .unwrap()
        .to_string();
    let rerun = w.succeeded(&again).await;
    assert_eq!(
        (rerun.origin, rerun.rerun_of.map(|r| r.to_string())),
        (app::domain::run::RunOrigin::Rerun, Some(real.clone()))
    );
    let listed = |test: Option<bool>| {
        let db = w.db.clone();
        async move {
            let f = app::domain::records::RunFilter {
                test,
                ..Default::default()
            };
            let mut conn = db.acquire().await.unwrap();
            let page = app::store::runs::search(&mut conn, &f, 50).await.unwrap();
            let ids: Vec<String> = page.runs.iter().map(|(r, _)| r.id.to_string()).collect();
            let total: i64 = page.counts.iter().map(|(_, n)| n).sum();
            (ids, total)
        }
    };
    assert_eq!(
        listed(Some(false)).await,
        (vec![again.clone(), real.clone()], 2)
    );
    let (tests, total) = listed(Some(true)).await;
    assert_eq!((tests.len(), total), (2, 2));
    assert!(tests.contains(&run.to_string()) && !tests.contains(&real));
    assert_eq!(listed(None).await.1, 4);
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

/// Testing one step (the designer's "Test step"): a step runs over sample
/// data with the real runner; one that writes elsewhere runs only once
/// confirmed; a waiting step cannot be tested; every test is audited.
#[tokio::test]
async fn a_step_is_tested_over_sample_data_and_a_writing_step_only_once_confirmed() {
    use crate::common::receiver::Receiver;
    use app::ops::step_test::{Tester, test};
    let w = World::new().await;
    let ledger = Receiver::scripted(vec![]).await;
    let mut post = http("post", &ledger.url);
    if let app::domain::NodeKind::Http { request, .. } = &mut post.kind {
        request.body = Some("{\"amount\": {{ steps.calc.output.amount }}}".into());
    }
    let def = def(
        vec![
            start(),
            transform("calc", "{amount: (.input.amount * 2)}"),
            post,
            end("end", None),
        ],
        vec![
            ("start", "out", "calc"),
            ("calc", "out", "post"),
            ("post", "out", "end"),
        ],
    );
    let wf =
        app::ops::workflows::create(&w.db, &Actor::anonymous(), "Tested steps", &def, false, T0)
            .await
            .unwrap();
    let engine = std::sync::Arc::new(crate::common::engine(w.db.clone(), w.clock.clone(), 30_000));
    let tester = Tester(engine);
    let ed = Actor("user:ed".into());
    let id = &wf.workflow_id;
    let sample = json!({"input": {"amount": 21}, "steps": {}});
    let r = test(&w.db, &tester, &ed, id, &def, "calc", &sample, false, T0)
        .await
        .unwrap();
    assert_eq!(r.output, Some(json!({"amount": 42})));
    assert_eq!(r.port.as_deref(), Some("out"));
    assert_eq!(r.error, None);

    // a POST asks first: nothing is sent until confirmed
    let sample = json!({"input": {}, "steps": {"calc": {"output": {"amount": 42}}}});
    let e = test(&w.db, &tester, &ed, id, &def, "post", &sample, false, T0)
        .await
        .unwrap_err();
    assert!(e.message.contains("confirm to send it"), "{}", e.message);
    assert!(ledger.calls().is_empty(), "nothing was sent");
    let r = test(&w.db, &tester, &ed, id, &def, "post", &sample, true, T0)
        .await
        .unwrap();
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!(r.output.as_ref().unwrap()["status"], json!(200));
    assert_eq!(
        r.output.as_ref().unwrap()["body"]["echo"],
        json!("{\"amount\": 42}")
    );
    let calls = ledger.calls();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0].starts_with("test-"),
        "a test's own idempotency key: {}",
        calls[0]
    );

    // a broken template is a failed test with its class and message
    let bad = json!({"input": {}, "steps": {}});
    let r = test(&w.db, &tester, &ed, id, &def, "post", &bad, true, T0)
        .await
        .unwrap();
    assert_eq!(r.error_class.as_deref(), Some("format"), "{r:?}");
    assert!(r.error.unwrap().contains("undefined"));
    // unknown steps and waiting kinds are refused
    assert!(
        test(&w.db, &tester, &ed, id, &def, "nope", &bad, true, T0)
            .await
            .is_err()
    );
    let e = test(&w.db, &tester, &ed, id, &def, "start", &bad, true, T0)
        .await
        .unwrap_err();
    assert!(e.message.contains("nothing to test"), "{}", e.message);
    // audited, with who and which step
    let ev = w.event("step.tested", None).await;
    assert_eq!(ev.actor, "user:ed");
    assert_eq!(ev.details["node"], json!("post"));
    assert_eq!(ev.details["side_effect"], json!(true));
}

/// The fix was in the workflow (issue 13): a failed run's step is retried
/// on the latest version, which the run then keeps; a version with other
/// steps is refused and the run stays as it was.
#[tokio::test]
async fn a_failed_step_is_retried_on_the_latest_version_when_the_fix_was_in_the_workflow() {
    use crate::common::receiver::Receiver;
    let w = World::new().await;
    let ledger = Receiver::scripted(vec![]).await;
    let broken_url = ledger.url.replace("/hook", "/nowhere");
    let v1 = def(
        vec![
            start(),
            http("post", &broken_url),
            end("end", Some(".steps.post.output.status")),
        ],
        vec![("start", "out", "post"), ("post", "out", "end")],
    );
    let wf = app::ops::workflows::create(&w.db, &Actor::anonymous(), "Fix me", &v1, false, T0)
        .await
        .unwrap();
    let run = app::ops::runs::start(
        &w.db,
        &Actor::anonymous(),
        &wf.workflow_id,
        None,
        &json!({}),
        app::ops::runs::Via::Api,
        T0,
    )
    .await
    .unwrap();
    w.idle().await;
    assert_eq!(
        w.run(&run).await.run.status,
        RunStatus::Failed,
        "404 is a business error"
    );

    // a version with other steps cannot take the run over
    let mut other = v1.clone();
    other.nodes.push(transform("extra", "{}"));
    other.edges.retain(|e| !(e.from == "post" && e.to == "end"));
    other
        .edges
        .push(app::domain::Edge::new("post", "out", "extra"));
    other
        .edges
        .push(app::domain::Edge::new("extra", "out", "end"));
    app::ops::workflows::save_version(
        &w.db,
        &Actor::anonymous(),
        &wf.workflow_id,
        &other,
        false,
        T0,
    )
    .await
    .unwrap();
    let e = app::ops::runs::retry_step_on(&w.db, &Actor::anonymous(), &run, "post", None, true, T0)
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("version 2 has other steps (added: extra"),
        "{}",
        e.message
    );
    assert_eq!(w.run(&run).await.run.version, 1);

    // version 3 fixes the URL; the retry takes it and the run succeeds
    let mut fixed = v1.clone();
    if let app::domain::NodeKind::Http { request, .. } = &mut fixed.nodes[1].kind {
        request.url = ledger.url.clone();
    }
    app::ops::workflows::save_version(
        &w.db,
        &Actor::anonymous(),
        &wf.workflow_id,
        &fixed,
        false,
        T0,
    )
    .await
    .unwrap();
    let ed = Actor("user:ed".into());
    app::ops::runs::retry_step_on(&w.db, &ed, &run, "post", None, true, T0)
        .await
        .unwrap();
    let r = w.succeeded(&run).await;
    assert_eq!(r.version, 3);
    assert_eq!(r.output, Some(json!(200)));
    let ev = w.event("step.retried", Some(&run)).await;
    assert_eq!(ev.details["version"], json!(3));
    assert_eq!(ev.details["from_version"], json!(1));
    assert_eq!(ev.actor, "user:ed");
}
