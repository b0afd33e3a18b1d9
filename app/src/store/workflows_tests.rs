use super::*;
use crate::domain::example::invoice_approval;
use crate::store::test_db;

#[tokio::test]
async fn insert_get_and_list_round_trip() {
    let (db, _dir) = test_db().await;
    let mut conn = db.acquire().await.unwrap();
    let def = invoice_approval();
    insert(&mut conn, "wf_1", "Invoices", &def, 0, "alice", 1_000)
        .await
        .unwrap();

    let v = get(&mut conn, "wf_1", None).await.unwrap();
    assert_eq!(v.definition, def, "definition survives the round trip");
    assert_eq!(
        (v.version, v.latest_version, v.name.as_str()),
        (1, 1, "Invoices")
    );
    assert_eq!(v.created_by, "alice");

    let list = list(&mut conn, crate::domain::records::Paging::FIRST)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].updated_at, 1_000);
    assert_eq!(list[0].problems, 0);
}

#[tokio::test]
async fn every_save_is_a_new_immutable_version() {
    let (db, _dir) = test_db().await;
    let mut conn = db.acquire().await.unwrap();
    let v1 = WorkflowDef::minimal();
    insert(&mut conn, "wf_1", "W", &v1, 0, "a", 1)
        .await
        .unwrap();
    let mut v2 = v1.clone();
    v2.nodes[1].name = "Finish".into();
    assert_eq!(
        add_version(&mut conn, "wf_1", &v2, 0, "b", 2)
            .await
            .unwrap(),
        2
    );

    assert_eq!(get(&mut conn, "wf_1", None).await.unwrap().definition, v2);
    assert_eq!(
        get(&mut conn, "wf_1", Some(1)).await.unwrap().definition,
        v1
    );
    assert!(matches!(
        get(&mut conn, "wf_1", Some(3)).await,
        Err(StoreError::NotFound)
    ));

    let err = crate::store::conn::query("UPDATE workflow_versions SET definition = '{}'")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    let summary = &list(&mut conn, crate::domain::records::Paging::FIRST)
        .await
        .unwrap()[0];
    assert_eq!(
        (summary.latest_version, summary.updated_by.as_str()),
        (2, "b")
    );
}

#[tokio::test]
async fn names_are_unique_among_live_workflows_only() {
    let (db, _dir) = test_db().await;
    let mut conn = db.acquire().await.unwrap();
    let def = WorkflowDef::minimal();
    insert(&mut conn, "wf_1", "Same", &def, 0, "a", 1)
        .await
        .unwrap();
    let err = insert(&mut conn, "wf_2", "Same", &def, 0, "a", 2)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref m) if m == NAME_TAKEN),
        "{err}"
    );

    insert(&mut conn, "wf_3", "Other", &def, 0, "a", 3)
        .await
        .unwrap();
    assert!(matches!(
        rename(&mut conn, "wf_3", "Same", "a", 4).await,
        Err(StoreError::Conflict(_))
    ));

    assert_eq!(
        soft_delete(&mut conn, "wf_1", "a", 5).await.unwrap(),
        "Same"
    );
    assert!(matches!(
        soft_delete(&mut conn, "wf_1", "a", 6).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        get(&mut conn, "wf_1", None).await,
        Err(StoreError::NotFound)
    ));
    // the deleted workflow's versions are kept
    let kept: i64 = crate::store::conn::query_scalar(
        "SELECT COUNT(*) FROM workflow_versions WHERE workflow_id = 'wf_1'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(kept, 1);
    assert_eq!(
        rename(&mut conn, "wf_3", "Same", "a", 7).await.unwrap(),
        "Other"
    );
    let names: Vec<String> = list(&mut conn, crate::domain::records::Paging::FIRST)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, vec!["Same"]);
}
