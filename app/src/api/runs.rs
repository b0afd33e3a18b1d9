#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::domain::records::{AttemptRecord, RunDetail, RunFilter, RunPage};
use crate::error::AppError;
use leptos::prelude::*;

/// Starts a run of the workflow's latest version; `input` is JSON text,
/// and `chaos` (JSON text of a `ChaosPlan`), when given, makes it a chaos run.
#[server(prefix = "/rpc", endpoint = "start_run")]
pub async fn start_run(
    workflow_id: String,
    input: String,
    #[server(default)] chaos: Option<String>,
) -> Result<crate::domain::ids::RunId, AppError> {
    let who = super::require(Permission::OperateRuns, "start runs")?;
    use crate::domain::audit::Actor;
    let input = parse_input(&input)?;
    let (db, actor, via, now) = (
        super::db()?,
        Actor(who.actor),
        crate::ops::runs::Via::Browser,
        crate::ops::now_ms(),
    );
    let id = match chaos.filter(|c| !c.trim().is_empty()) {
        Some(text) => {
            let plan: crate::domain::chaos::ChaosPlan =
                serde_json::from_str(&text).map_err(|e| {
                    AppError::new(
                        crate::error::ErrorCode::InvalidInput,
                        format!("the chaos plan is not valid: {e}"),
                    )
                })?;
            crate::ops::runs::start_chaos(&db, &actor, &workflow_id, None, &input, via, &plan, now)
                .await?
        }
        None => crate::ops::runs::start(&db, &actor, &workflow_id, None, &input, via, now).await?,
    };
    if let Some(w) = use_context::<crate::ops::Wakeup>() {
        w.wake();
    }
    Ok(id)
}

/// Starts a test run of an unsaved working copy (`definition`, JSON text)
/// with `input` (JSON text): editors only; the copy is kept with the run.
#[server(prefix = "/rpc", endpoint = "start_test_run")]
pub async fn start_test_run(
    workflow_id: String,
    definition: String,
    input: String,
) -> Result<crate::domain::ids::RunId, AppError> {
    let who = super::require(Permission::EditWorkflows, "test a working copy")?;
    use crate::domain::audit::Actor;
    let def = super::working_copy(&definition)?;
    let input = parse_input(&input).map_err(super::failed)?;
    let id = crate::ops::runs::start_test(
        &super::db()?,
        &Actor(who.actor),
        &workflow_id,
        &def,
        &input,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)?;
    if let Some(w) = use_context::<crate::ops::Wakeup>() {
        w.wake();
    }
    Ok(id)
}

/// Run input typed as JSON text (empty: `{}`).
#[cfg(feature = "ssr")]
fn parse_input(input: &str) -> Result<serde_json::Value, AppError> {
    if input.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_str(input)
        .map_err(|e| AppError::bad_request(format!("the input is not valid JSON: {e}")))
}

/// The newest run of a workflow, for the designer's data panel.
#[server(prefix = "/rpc", endpoint = "latest_run")]
pub async fn latest_run(workflow_id: String) -> Result<Option<RunDetail>, AppError> {
    super::require(Permission::Read, "see runs")?;
    crate::ops::runs::latest(&super::db()?, &workflow_id)
        .await
        .map_err(super::failed)
}

#[server(prefix = "/rpc", endpoint = "get_run")]
pub async fn get_run(id: String) -> Result<RunDetail, AppError> {
    super::require(Permission::Read, "see runs")?;
    crate::ops::runs::get(&super::db()?, &id).await
}

/// A page of runs matching `filter` (newest first, 50 per page), with the
/// counts per status over all pages.
#[server(prefix = "/rpc", endpoint = "list_runs")]
pub async fn list_runs(#[server(default)] filter: RunFilter) -> Result<RunPage, AppError> {
    super::require(Permission::Read, "see runs")?;
    use crate::store::StoreError;
    let db = super::db()?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(crate::store::runs::search(&mut conn, &filter.cleaned(), 50).await?)
}

/// The attempts of a run's steps (the step log), the first 500.
#[server(prefix = "/rpc", endpoint = "get_attempts")]
pub async fn get_attempts(id: String) -> Result<Vec<AttemptRecord>, AppError> {
    super::require(Permission::Read, "see runs")?;
    crate::ops::runs::attempts(&super::db()?, &id, crate::domain::records::Paging::FIRST)
        .await
        .map_err(super::failed)
}

/// A page of a For each step's items and their runs, in list order.
#[server(prefix = "/rpc", endpoint = "get_items")]
pub async fn get_items(
    id: String,
    node: String,
    from: i64,
) -> Result<Vec<crate::domain::records::ItemRun>, AppError> {
    super::require(Permission::Read, "see runs")?;
    crate::ops::runs::items(&super::db()?, &id, &node, from, ITEMS_PAGE)
        .await
        .map_err(super::failed)
}

/// Items shown at a time on a run's page.
pub const ITEMS_PAGE: i64 = 50;

#[server(prefix = "/rpc", endpoint = "cancel_run")]
pub async fn cancel_run(id: String) -> Result<(), AppError> {
    let who = super::require(Permission::OperateRuns, "cancel runs")?;
    crate::ops::runs::cancel(
        &super::db()?,
        &crate::domain::audit::Actor(who.actor),
        &id,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)?;
    // its approval items leave the open inboxes
    if let Some(c) = use_context::<crate::ops::Changes>() {
        c.notify("approvals");
        c.notify(format!("run:{id}"));
    }
    Ok(())
}

/// Runs a failed step again; `input` (JSON, optional) replaces its context;
/// with `latest` the run goes on under the workflow's latest version.
#[server(prefix = "/rpc", endpoint = "retry_step")]
pub async fn retry_step(
    id: String,
    node_id: String,
    input: String,
    #[server(default)] latest: bool,
) -> Result<(), AppError> {
    let who = super::require(Permission::OperateRuns, "retry steps")?;
    let input: Option<serde_json::Value> = if input.trim().is_empty() {
        None
    } else {
        Some(serde_json::from_str(&input).map_err(|e| {
            super::failed(AppError::bad_request(format!(
                "the edited input is not valid JSON: {e}"
            )))
        })?)
    };
    crate::ops::runs::retry_step_on(
        &super::db()?,
        &crate::domain::audit::Actor(who.actor),
        &id,
        &node_id,
        input.as_ref(),
        latest,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)?;
    if let Some(w) = use_context::<crate::ops::Wakeup>() {
        w.wake();
    }
    Ok(())
}

/// A new run with the same input, on the same version or the latest.
#[server(prefix = "/rpc", endpoint = "rerun_run")]
pub async fn rerun_run(id: String, latest: bool) -> Result<crate::domain::ids::RunId, AppError> {
    let who = super::require(Permission::OperateRuns, "re-run runs")?;
    let new = crate::ops::runs::rerun(
        &super::db()?,
        &crate::domain::audit::Actor(who.actor),
        &id,
        latest,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)?;
    if let Some(w) = use_context::<crate::ops::Wakeup>() {
        w.wake();
    }
    Ok(new)
}
