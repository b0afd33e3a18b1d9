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
