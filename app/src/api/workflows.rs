#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::domain::records::{VersionInfo, WorkflowSummary, WorkflowVersion};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_workflows")]
pub async fn list_workflows() -> Result<Vec<WorkflowSummary>, AppError> {
    super::require(Permission::Read, "see workflows")?;
    crate::ops::workflows::list(&super::db()?, crate::domain::records::Paging::FIRST).await
}

#[server(prefix = "/rpc", endpoint = "list_versions")]
pub async fn list_versions(id: String) -> Result<Vec<VersionInfo>, AppError> {
    super::require(Permission::Read, "see workflows")?;
    crate::ops::workflows::versions(&super::db()?, &id, crate::domain::records::Paging::FIRST).await
}

#[server(prefix = "/rpc", endpoint = "get_workflow")]
pub async fn get_workflow(id: String, version: Option<i64>) -> Result<WorkflowVersion, AppError> {
    super::require(Permission::Read, "see workflows")?;
    crate::ops::workflows::get(&super::db()?, &id, version).await
}

/// Creates a workflow that runs as it is (Start straight to End), ready to
/// be extended; returns its id.
#[server(prefix = "/rpc", endpoint = "create_workflow")]
pub async fn create_workflow(name: String) -> Result<String, AppError> {
    let who = super::require(Permission::EditWorkflows, "change workflows")?;
    use crate::domain::{WorkflowDef, audit::Actor};
    let now = crate::ops::now_ms();
    let created = crate::ops::workflows::create(
        &super::db()?,
        &Actor(who.actor),
        &name,
        &WorkflowDef::minimal(),
        true,
        now,
    )
    .await?;
    Ok(created.workflow_id)
}

#[server(prefix = "/rpc", endpoint = "rename_workflow")]
pub async fn rename_workflow(id: String, name: String) -> Result<(), AppError> {
    let who = super::require(Permission::EditWorkflows, "change workflows")?;
    use crate::domain::audit::Actor;
    let now = crate::ops::now_ms();
    crate::ops::workflows::rename(&super::db()?, &Actor(who.actor), &id, &name, now).await
}

#[server(prefix = "/rpc", endpoint = "delete_workflow")]
pub async fn delete_workflow(id: String) -> Result<(), AppError> {
    let who = super::require(Permission::EditWorkflows, "change workflows")?;
    use crate::domain::audit::Actor;
    let now = crate::ops::now_ms();
    crate::ops::workflows::delete(&super::db()?, &Actor(who.actor), &id, now).await
}

/// Publishes saved `version` (see `ops::workflows::publish`); an admin may
/// `override_gate` when the golden set falls short (audited).
#[server(prefix = "/rpc", endpoint = "publish_workflow")]
pub async fn publish_workflow(
    id: String,
    version: i64,
    #[server(default)] override_gate: bool,
) -> Result<WorkflowVersion, AppError> {
    let who = super::require(Permission::EditWorkflows, "publish workflows")?;
    if override_gate {
        super::require(Permission::Administer, "publish past the golden set's gate")?;
    }
    use crate::domain::audit::Actor;
    let now = crate::ops::now_ms();
    let judge = leptos::prelude::use_context::<crate::ops::golden::Judge>();
    let eval = judge.as_ref().map(|j| &*j.0 as _);
    let gate = if override_gate {
        crate::ops::workflows::Gate::Override(eval)
    } else {
        crate::ops::workflows::Gate::Check(eval)
    };
    crate::ops::workflows::publish(&super::db()?, &Actor(who.actor), &id, version, gate, now).await
}

/// No version of workflow `id` is published any more.
#[server(prefix = "/rpc", endpoint = "unpublish_workflow")]
pub async fn unpublish_workflow(id: String) -> Result<(), AppError> {
    let who = super::require(Permission::EditWorkflows, "unpublish workflows")?;
    use crate::domain::audit::Actor;
    let now = crate::ops::now_ms();
    crate::ops::workflows::unpublish(&super::db()?, &Actor(who.actor), &id, now).await
}

/// Saves `definition` (JSON) as a new version; drafts with problems are
/// allowed (they cannot run until fixed).
#[server(prefix = "/rpc", endpoint = "save_workflow")]
pub async fn save_workflow(id: String, definition: String) -> Result<WorkflowVersion, AppError> {
    let who = super::require(Permission::EditWorkflows, "change workflows")?;
    use crate::domain::{WorkflowDef, audit::Actor};
    let def: WorkflowDef = serde_json::from_str(&definition)
        .map_err(|e| AppError::bad_request(format!("the definition cannot be read: {e}")))?;
    let now = crate::ops::now_ms();
    crate::ops::workflows::save_version(&super::db()?, &Actor(who.actor), &id, &def, true, now)
        .await
}

/// Whether a Code step's `source` compiles: `None`, or the error with
/// its line. Editors only (it runs the engine's compiler in the sandbox).
#[server(prefix = "/rpc", endpoint = "check_code")]
pub async fn check_code(source: String) -> Result<Option<String>, AppError> {
    super::require(Permission::EditWorkflows, "check code")?;
    if source.len() > crate::domain::validate::MAX_CODE_BYTES {
        return Ok(Some(format!(
            "the code is {} KB; the limit is {} KB",
            source.len() / 1024,
            crate::domain::validate::MAX_CODE_BYTES / 1024
        )));
    }
    let tester = use_context::<crate::ops::step_test::Tester>().ok_or_else(|| {
        super::failed(AppError::new(
            crate::error::ErrorCode::Internal,
            "code cannot be checked on this server",
        ))
    })?;
    Ok(tester.0.check_code(&source).await.err())
}

/// Tests step `node_id` of the working copy `definition` (JSON text) over
/// `context` (JSON text, `{input, steps}`), without starting a run; a step
/// that changes something elsewhere only with `confirmed`. Editors only.
#[server(prefix = "/rpc", endpoint = "test_step")]
pub async fn test_step(
    workflow_id: String,
    definition: String,
    node_id: String,
    context: String,
    confirmed: bool,
) -> Result<crate::domain::step_test::StepTestResult, AppError> {
    let who = super::require(Permission::EditWorkflows, "test steps")?;
    let def = super::working_copy(&definition)?;
    let context: serde_json::Value = serde_json::from_str(&context).map_err(|e| {
        super::failed(AppError::bad_request(format!(
            "the sample data is not valid JSON: {e}"
        )))
    })?;
    let tester = use_context::<crate::ops::step_test::Tester>().ok_or_else(|| {
        super::failed(AppError::new(
            crate::error::ErrorCode::Internal,
            "steps cannot be tested on this server",
        ))
    })?;
    crate::ops::step_test::test(
        &super::db()?,
        &tester,
        &crate::domain::audit::Actor(who.actor),
        &workflow_id,
        &def,
        &node_id,
        &context,
        confirmed,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)
}

/// How many days the workflow's finished runs are kept (None: the
/// instance default, `--retention-days`).
#[server(prefix = "/rpc", endpoint = "get_retention")]
pub async fn get_retention(id: String) -> Result<Option<i64>, AppError> {
    super::require(Permission::Read, "see workflows")?;
    crate::ops::workflows::retention(&super::db()?, &id)
        .await
        .map_err(super::failed)
}

/// Sets it (administrators): a number of days, or empty for the instance
/// default.
#[server(prefix = "/rpc", endpoint = "set_retention")]
pub async fn set_retention(id: String, days: String) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "set how long runs are kept")?;
    let days = match days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            super::failed(AppError::bad_request(format!(
                "days must be a whole number of days (1 to 36500), or empty for the instance default, not '{d}'"
            )))
        })?),
    };
    crate::ops::workflows::set_retention(
        &super::db()?,
        &crate::domain::audit::Actor(who.actor.clone()),
        &id,
        days,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)
}
