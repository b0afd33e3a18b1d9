//! Seeds the example workflow into a new instance, once.

use super::workflows;
use crate::domain::audit::Actor;
use crate::domain::example::{EXAMPLE_NAME, invoice_approval_at};
use crate::error::AppError;
use crate::store::{Db, StoreError, set_meta};

const SEEDED: &str = "example_seeded";
const TRIAGE_SEEDED: &str = "triage_example_seeded";

/// Creates the example workflow unless this instance was seeded before
/// (deleting the example must not bring it back on the next start). Its
/// ledger step calls the stand-in ledger at `base`, the address this
/// server listens on.
pub async fn seed_example(db: &Db, base: &str, now: i64) -> Result<bool, AppError> {
    if db.meta(SEEDED).await?.is_some() {
        return Ok(false);
    }
    let existing = workflows::list(db, crate::domain::records::Paging::FIRST).await?;
    if existing.is_empty() {
        let created = workflows::create(
            db,
            &Actor::system(),
            EXAMPLE_NAME,
            &invoice_approval_at(base),
            false,
            now,
        )
        .await?;
        // published, so what starts it without naming a version runs it
        workflows::publish(
            db,
            &Actor::system(),
            &created.workflow_id,
            1,
            workflows::Gate::Check(None),
            now,
        )
        .await?;
    }
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    set_meta(&mut conn, SEEDED, &now.to_string()).await?;
    Ok(existing.is_empty())
}

/// Adds the "Support ticket triage" example, once, to an instance that got
/// the first example (also one seeded before this example existed); with
/// `demo`, also the `demo` model connection to the server's stand-in model
/// at `base` (unless a connection of that name exists).
pub async fn seed_triage(db: &Db, base: &str, demo: bool, now: i64) -> Result<bool, AppError> {
    use crate::domain::example_triage::{
        DEMO_CONNECTION, DEMO_MODEL_PATH, TRIAGE_NAME, support_triage_at,
    };
    if demo && super::models::get(db, DEMO_CONNECTION).await?.is_none() {
        let c = crate::domain::llm::ModelConnection {
            name: DEMO_CONNECTION.into(),
            base_url: format!("{}{DEMO_MODEL_PATH}", base.trim_end_matches('/')),
            model: "stepwise-demo".into(),
            api_key_secret: None,
            price_in_per_1k: Some(0.15),
            price_out_per_1k: Some(0.6),
            timeout_ms: 10_000,
        };
        super::models::save(db, "system", c, now).await?;
    }
    if db.meta(TRIAGE_SEEDED).await?.is_some() || db.meta(SEEDED).await?.is_none() {
        return Ok(false);
    }
    let added = !workflows::list(db, crate::domain::records::Paging::FIRST)
        .await?
        .iter()
        .any(|w| w.name == TRIAGE_NAME);
    if added {
        let created = workflows::create(
            db,
            &Actor::system(),
            TRIAGE_NAME,
            &support_triage_at(base),
            false,
            now,
        )
        .await?;
        workflows::publish(
            db,
            &Actor::system(),
            &created.workflow_id,
            1,
            workflows::Gate::Check(None),
            now,
        )
        .await?;
    }
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    set_meta(&mut conn, TRIAGE_SEEDED, &now.to_string()).await?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_db;

    #[tokio::test]
    async fn seeds_once_and_never_brings_a_deleted_example_back() {
        let (db, _dir) = test_db().await;
        assert!(seed_example(&db, "http://127.0.0.1:8123", 1).await.unwrap());
        let list = workflows::list(&db, crate::domain::records::Paging::FIRST)
            .await
            .unwrap();
        assert_eq!(list.len(), 1);
        let seeded = workflows::get(&db, &list[0].id, None).await.unwrap();
        assert_eq!(
            seeded.published_version,
            Some(1),
            "the example is published"
        );
        let ledger = seeded.definition.node("post_ledger").unwrap();
        let crate::domain::NodeKind::Http { request, .. } = &ledger.kind else {
            panic!("the ledger step is an Http step");
        };
        assert_eq!(
            request.url, "http://127.0.0.1:8123/demo/ledger/entries",
            "the ledger is called on the address the server listens on"
        );
        assert_eq!(list[0].name, EXAMPLE_NAME);
        assert_eq!(list[0].updated_by, "system");
        assert_eq!(list[0].problems, 0, "the example is runnable");

        workflows::delete(&db, &Actor::anonymous(), &list[0].id, 2)
            .await
            .unwrap();
        assert!(!seed_example(&db, "http://127.0.0.1:3000", 3).await.unwrap());
        assert!(
            workflows::list(&db, crate::domain::records::Paging::FIRST)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_triage_example_comes_once_with_the_demo_connection_and_only_after_the_first() {
        let (db, _dir) = test_db().await;
        assert!(
            !seed_triage(&db, "http://127.0.0.1:8123", false, 1)
                .await
                .unwrap(),
            "not before the first example"
        );
        assert!(seed_example(&db, "http://127.0.0.1:8123", 1).await.unwrap());
        assert!(
            seed_triage(&db, "http://127.0.0.1:8123", true, 1)
                .await
                .unwrap()
        );
        let list = workflows::list(&db, crate::domain::records::Paging::FIRST)
            .await
            .unwrap();
        let triage = list
            .iter()
            .find(|w| w.name == "Support ticket triage")
            .unwrap();
        assert_eq!(triage.problems, 0);
        let c = crate::ops::models::get(&db, "demo").await.unwrap().unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8123/demo/v1");
        workflows::delete(&db, &Actor::anonymous(), &triage.id, 2)
            .await
            .unwrap();
        assert!(
            !seed_triage(&db, "http://127.0.0.1:8123", true, 3)
                .await
                .unwrap(),
            "a deleted example stays deleted"
        );
    }

    #[tokio::test]
    async fn an_instance_with_workflows_gets_no_example() {
        let (db, _dir) = test_db().await;
        let def = crate::domain::WorkflowDef::minimal();
        workflows::create(&db, &Actor::anonymous(), "Mine", &def, false, 1)
            .await
            .unwrap();
        assert!(!seed_example(&db, "http://127.0.0.1:3000", 2).await.unwrap());
        assert_eq!(
            workflows::list(&db, crate::domain::records::Paging::FIRST)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}
