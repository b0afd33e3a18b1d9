//! Retention on the manual clock: finished runs older than the workflow's
//! retention go, with their item runs, steps, attempts and approval items,
//! a batch per transaction and one audit event per batch; running, recent
//! and golden runs stay, and the audit trail still verifies.

use crate::common::world::*;
use app::domain::audit::Actor;
use app::domain::run::RunStatus;
use serde_json::json;
use server::engine::retention::RetentionConfig;

const DAY: i64 = 86_400_000;

async fn count(w: &World, sql: &str) -> i64 {
    app::store::conn::query_scalar(sql)
        .fetch_one(&mut w.db.acquire().await.unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn runs_past_retention_go_in_audited_batches_with_everything_under_them() {
    let w = World::new().await;
    let (body, edges) = crate::foreach::doubling(".item * 2");
    let def = crate::foreach::looped(crate::foreach::over(".input.items", 4), body, edges);
    let wf =
        app::ops::workflows::create(&w.db, &Actor::anonymous(), "kept 30 days", &def, false, T0)
            .await
            .unwrap()
            .workflow_id;
    let start = |input| {
        let (db, wf, now) = (w.db.clone(), wf.clone(), w.clock.now_ms());
        async move {
            app::ops::runs::start(
                &db,
                &Actor::anonymous(),
                &wf,
                None,
                &input,
                app::ops::runs::Via::Api,
                now,
            )
            .await
            .unwrap()
        }
    };
    // seven old runs of three items each, finished at T0
    let mut old = vec![];
    for n in 0..7 {
        old.push(start(json!({"items": [n, n + 1, n + 2]})).await);
    }
    w.idle().await;
    for r in &old {
        assert_eq!(w.run(r).await.run.status, RunStatus::Succeeded);
    }
    // an old run still waiting for a person, in another workflow
    let waiting = w
        .start(
            crate::approvals::flow(crate::approvals::approval("ok", &["approver"], 1)),
            json!({"vendor": "v", "amount": 5}),
        )
        .await;
    w.idle().await;
    assert_eq!(w.run(&waiting).await.run.status, RunStatus::Running);
    let item_runs = count(
        &w,
        "SELECT COUNT(*) FROM runs WHERE parent_run_id IS NOT NULL",
    )
    .await;
    assert_eq!(item_runs, 21);

    w.clock.advance(31 * DAY);
    let recent = start(json!({"items": [1]})).await;
    w.idle().await;
    app::ops::workflows::set_retention(&w.db, &Actor::anonymous(), &wf, Some(30), w.clock.now_ms())
        .await
        .unwrap();
    // batches of three (never judged slow, so never smaller)
    let config = RetentionConfig {
        default_days: 0,
        batch: 3,
        target: std::time::Duration::from_secs(3600),
        pause: std::time::Duration::ZERO,
    };
    let swept = w.engine.sweep_retention(&config, None).await.unwrap();
    assert_eq!((swept.runs, swept.with_children, swept.batches), (7, 28, 3));

    // what stays: the recent run (and its item), the waiting run; nothing
    // of the old runs is left anywhere
    let left: Vec<String> = app::store::conn::query_scalar(
        "SELECT id FROM runs WHERE parent_run_id IS NULL ORDER BY created_at",
    )
    .fetch_all(&mut w.db.acquire().await.unwrap())
    .await
    .unwrap();
    assert_eq!(left, vec![waiting.to_string(), recent.to_string()]);
    assert_eq!(
        count(
            &w,
            "SELECT COUNT(*) FROM runs WHERE parent_run_id IS NOT NULL"
        )
        .await,
        1
    );
    for table in [
        "steps",
        "step_attempts",
        "foreach_items",
        "step_passes",
        "approval_items",
    ] {
        let orphans = count(
            &w,
            &format!("SELECT COUNT(*) FROM {table} WHERE run_id NOT IN (SELECT id FROM runs)"),
        )
        .await;
        assert_eq!(orphans, 0, "{table} kept rows of deleted runs");
    }
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM approval_items").await,
        1,
        "the waiting run's item stays"
    );
    // one audit event per batch, and the trail (with the deleted runs'
    // events) still verifies
    assert_eq!(
        count(
            &w,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'runs.deleted'"
        )
        .await,
        3
    );
    let e = w.event("runs.deleted", None).await;
    assert_eq!(e.details["runs"], 1, "{:?}", e.details);
    assert_eq!(e.details["retention_days"], 30);
    let started = count(
        &w,
        &format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'run.started' AND run_id = '{}'",
            old[0]
        ),
    )
    .await;
    assert_eq!(started, 1, "the audit trail keeps the deleted runs' events");
    let report = app::store::audit::verify(&mut w.db.acquire().await.unwrap(), None)
        .await
        .unwrap();
    assert_eq!(report.broken_at, None, "{:?}", report.reason);
    // a second sweep finds nothing
    let again = w.engine.sweep_retention(&config, None).await.unwrap();
    assert_eq!(again.runs, 0);
}

#[tokio::test]
async fn the_instance_default_applies_to_workflows_without_their_own_and_careless_values_are_refused()
 {
    let w = World::new().await;
    let d = def(
        vec![start(), transform("t", ".input"), end("end", None)],
        vec![("start", "out", "t"), ("t", "out", "end")],
    );
    let run = w.start(d, json!(1)).await;
    let wf = w.succeeded(&run).await.workflow_id;
    w.clock.advance(8 * DAY);
    let mut config = RetentionConfig::default();
    assert_eq!(
        w.engine.sweep_retention(&config, None).await.unwrap().runs,
        0,
        "kept for ever by default"
    );
    config.default_days = 10;
    assert_eq!(
        w.engine.sweep_retention(&config, None).await.unwrap().runs,
        0,
        "younger than the default"
    );
    config.default_days = 7;
    assert_eq!(
        w.engine.sweep_retention(&config, None).await.unwrap().runs,
        1
    );
    for bad in [0, -1, 36_501] {
        let e = app::ops::workflows::set_retention(&w.db, &Actor::anonymous(), &wf, Some(bad), T0)
            .await
            .unwrap_err();
        assert!(e.message.contains("1 to 36500"), "{}", e.message);
    }
    let e = app::ops::workflows::set_retention(&w.db, &Actor::anonymous(), "wf_nope", Some(3), T0)
        .await
        .unwrap_err();
    assert!(e.message.contains("no workflow"), "{}", e.message);
}
