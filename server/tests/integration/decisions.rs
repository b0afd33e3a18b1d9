//! A decision's writes go to the database in one batch with its audit
//! event and the item as it ends up; the event still follows the chain's
//! head when another process appended since this one last knew it.

use crate::approvals::{approval, approve, flow, item, person};
use crate::common::world::{Now, T0, World};
use app::domain::audit::NewAuditEvent;
use app::domain::auth::Role;
use app::domain::run::RunStatus;
use app::ops::approvals::decide;
use serde_json::json;

#[tokio::test]
async fn a_decision_after_another_process_appended_to_the_audit_is_chained_after_that_event() {
    let w = World::new().await;
    // two approvals of one item: the first leaves it pending
    let run = w
        .start(
            flow(approval("ok", &["approver"], 2)),
            json!({"amount": 5, "vendor": "V"}),
        )
        .await;
    w.idle().await;
    let i = item(&w, &run, "ok").await;
    let ann = person("ann", Role::Approver);
    let first = decide(&w.db, &ann, &i.id, approve("one"), w.clock.now_ms())
        .await
        .unwrap();
    assert_eq!(first.status.as_str(), "pending");
    assert_eq!(first.approvals, 1, "the item as the decision left it");
    // another process appends to the chain behind this one's back
    let other = app::store::Db::connect(&w.url, app::store::Durability::Normal)
        .await
        .unwrap();
    let mut tx = other.write().await.unwrap();
    let theirs = NewAuditEvent::new(
        T0,
        "user:zed",
        "secret.created",
        "secret:X".into(),
        json!({}),
    );
    app::store::audit::append(&mut tx, &theirs).await.unwrap();
    tx.commit().await.unwrap();
    let bo = person("bo", Role::Approver);
    let second = decide(&w.db, &bo, &i.id, approve("two"), w.clock.now_ms())
        .await
        .unwrap();
    assert_eq!(second.status.as_str(), "approved");
    assert_eq!(second.decided_by.as_deref(), Some("user:bo"));
    let mut conn = w.db.acquire().await.unwrap();
    let newest: Vec<(String, String)> = app::store::audit::list(&mut conn, None, 3)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor))
        .collect();
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        newest,
        vec![
            pair("approval.decided", "user:bo"),
            pair("secret.created", "user:zed"),
            pair("approval.decided", "user:ann"),
        ],
        "newest first"
    );
    let report = app::store::audit::verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None, "{:?}", report.reason);
    drop(conn);
    // the approved step goes on
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
}

/// Two people decide a one-approval item at the same moment: one decision
/// settles it, the other is told who did, and only the first is kept.
#[tokio::test]
async fn of_two_people_deciding_at_once_one_settles_the_item_and_the_other_is_told() {
    let w = std::sync::Arc::new(World::new().await);
    for round in 0..8 {
        let run = w
            .start(
                flow(approval("ok", &["approver"], 1)),
                json!({"amount": round, "vendor": "V"}),
            )
            .await;
        w.idle().await;
        let i = item(&w, &run, "ok").await;
        let decide_as = |name: &'static str| {
            let (w, id) = (w.clone(), i.id.clone());
            tokio::spawn(async move {
                let now = w.clock.now_ms();
                decide(
                    &w.db,
                    &person(name, Role::Approver),
                    &id,
                    approve(name),
                    now,
                )
                .await
            })
        };
        let (ann, bo) = tokio::join!(decide_as("ann"), decide_as("bo"));
        let (ann, bo) = (ann.unwrap(), bo.unwrap());
        let (won, lost) = match (&ann, &bo) {
            (Ok(_), Err(e)) => ("user:ann", e),
            (Err(e), Ok(_)) => ("user:bo", e),
            other => panic!("round {round}: exactly one must settle it: {other:?}"),
        };
        assert_eq!(lost.code.http_status(), 409, "round {round}: {lost:?}");
        assert!(
            lost.message
                .starts_with(&format!("already approved by {won} at ")),
            "round {round}: {}",
            lost.message
        );
        let after = item(&w, &run, "ok").await;
        assert_eq!(after.decided_by.as_deref(), Some(won));
        assert_eq!(after.approvals, 1, "round {round}: one decision kept");
        let mut conn = w.db.acquire().await.unwrap();
        let entity = format!("run:{run}");
        let decided = app::store::audit::list(&mut conn, Some(&entity), 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "approval.decided")
            .map(|e| e.actor)
            .collect::<Vec<_>>();
        assert_eq!(decided, vec![won.to_string()], "round {round}");
        drop(conn);
        w.idle().await;
        assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
    }
    let mut conn = w.db.acquire().await.unwrap();
    let report = app::store::audit::verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None, "{:?}", report.reason);
}
