//! Server functions of the Golden set panel and the run page's "Save as
//! test case" (the REST API has the same under `/api/v1`).

#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::domain::golden::TestCase;
use crate::domain::golden::report::{SuiteReport, SuiteStarted};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_test_cases")]
pub async fn list_test_cases(workflow_id: String) -> Result<Vec<TestCase>, AppError> {
    super::require(Permission::Read, "see test cases")?;
    crate::ops::golden::cases(&super::db()?, &workflow_id).await
}

/// Runs the workflow's latest version against every case.
#[server(prefix = "/rpc", endpoint = "run_golden_set")]
pub async fn run_golden_set(workflow_id: String) -> Result<SuiteStarted, AppError> {
    let who = super::require(Permission::EditWorkflows, "run the golden set")?;
    let db = super::db()?;
    let version = crate::ops::workflows::get(&db, &workflow_id, None)
        .await?
        .version;
    let actor = crate::domain::audit::Actor(who.actor);
    let now = crate::ops::now_ms();
    let started =
        crate::ops::golden::run_suite(&db, &actor, &workflow_id, version, None, now).await?;
    if let Some(w) = use_context::<crate::ops::Wakeup>() {
        w.wake();
    }
    Ok(started)
}

#[server(prefix = "/rpc", endpoint = "golden_report")]
pub async fn golden_report(suite_id: String) -> Result<SuiteReport, AppError> {
    super::require(Permission::Read, "see golden-set reports")?;
    let judge = use_context::<crate::ops::golden::Judge>()
        .ok_or_else(|| AppError::internal(&"the evaluator is missing from the context"))?;
    let now = crate::ops::now_ms();
    crate::ops::golden::report(&super::db()?, &*judge.0, &suite_id, now).await
}

/// Saves an ended run as a test case of its workflow.
#[server(prefix = "/rpc", endpoint = "save_test_case")]
pub async fn save_test_case(run_id: String, name: String) -> Result<TestCase, AppError> {
    let who = super::require(Permission::EditWorkflows, "write test cases")?;
    let actor = crate::domain::audit::Actor(who.actor);
    let now = crate::ops::now_ms();
    crate::ops::golden::case_from_run(&super::db()?, &actor, &run_id, &name, now).await
}

/// Saves a decided item as a test case: what the person decided must hold.
#[server(prefix = "/rpc", endpoint = "save_item_as_case")]
pub async fn save_item_as_case(item_id: String, name: String) -> Result<TestCase, AppError> {
    let who = super::require(Permission::EditWorkflows, "write test cases")?;
    let actor = crate::domain::audit::Actor(who.actor);
    let now = crate::ops::now_ms();
    crate::ops::golden::case_from_item(&super::db()?, &actor, &item_id, &name, now).await
}

/// Writes a test case from `spec` (JSON text of a `CaseSpec`): a new one
/// when `case_id` is empty, else that case changed.
#[server(prefix = "/rpc", endpoint = "write_test_case")]
pub async fn write_test_case(
    workflow_id: String,
    case_id: String,
    spec: String,
) -> Result<TestCase, AppError> {
    let who = super::require(Permission::EditWorkflows, "write test cases")?;
    let spec: crate::domain::golden::CaseSpec = serde_json::from_str(&spec).map_err(|e| {
        AppError::new(
            crate::error::ErrorCode::InvalidInput,
            format!("the test case is not valid JSON of a case: {e}"),
        )
    })?;
    let (db, actor, now) = (
        super::db()?,
        crate::domain::audit::Actor(who.actor),
        crate::ops::now_ms(),
    );
    match case_id.as_str() {
        "" => crate::ops::golden::create_case(&db, &actor, &workflow_id, spec, None, now).await,
        id => crate::ops::golden::update_case(&db, &actor, id, spec, now).await,
    }
}

#[server(prefix = "/rpc", endpoint = "delete_test_case")]
pub async fn delete_test_case(case_id: String) -> Result<(), AppError> {
    let who = super::require(Permission::EditWorkflows, "delete test cases")?;
    let actor = crate::domain::audit::Actor(who.actor);
    crate::ops::golden::delete_case(&super::db()?, &actor, &case_id, crate::ops::now_ms()).await
}

/// The share of cases (percent) a version must pass to be published; None: no gate.
#[server(prefix = "/rpc", endpoint = "publish_gate")]
pub async fn publish_gate(workflow_id: String) -> Result<Option<f64>, AppError> {
    super::require(Permission::Read, "see the publish gate")?;
    let mut conn = super::db()?
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    Ok(crate::store::golden::publish_gate(&mut conn, &workflow_id).await?)
}

/// Sets the gate: `min_pass_pct` as typed ("" for no gate).
#[server(prefix = "/rpc", endpoint = "set_publish_gate")]
pub async fn set_publish_gate(workflow_id: String, min_pass_pct: String) -> Result<(), AppError> {
    let who = super::require(Permission::EditWorkflows, "set the publish gate")?;
    let pct = match min_pass_pct.trim() {
        "" => None,
        t => Some(t.parse::<f64>().map_err(|_| {
            AppError::new(
                crate::error::ErrorCode::InvalidInput,
                format!("'{t}' is not a number: give a share from above 0 to 100, or nothing for no gate"),
            )
        })?),
    };
    let actor = crate::domain::audit::Actor(who.actor);
    crate::ops::golden::set_publish_gate(
        &super::db()?,
        &actor,
        &workflow_id,
        pct,
        crate::ops::now_ms(),
    )
    .await
}
