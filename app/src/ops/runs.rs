//! Starting, cancelling and retrying runs, and reading them back.

use super::progress;
use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::graph::{NodeKind, WorkflowDef};
use crate::domain::ids::RunId;
use crate::domain::operations;
use crate::domain::records::{AttemptRecord, RunDetail};
use crate::domain::run::{RunOrigin, RunStatus, StepStatus};
use crate::domain::validate;
use crate::error::{AppError, ErrorCode};
use crate::store::runs::RunEnd;
use crate::store::{Db, StoreError, audit, runs, workflows};
use serde_json::{Value, json};

fn run_not_found(id: &str) -> impl Fn(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::NotFound => AppError::not_found(format!("no run with id '{id}'")),
        other => other.into(),
    }
}

/// A run id from outside (a URL, a request): one of the right shape, or
/// 404 naming what was asked for.
pub fn parse_run_id(id: &str) -> Result<RunId, AppError> {
    RunId::parse(id).ok_or_else(|| AppError::not_found(format!("no run with id '{id}'")))
}

/// How a run is being started (kept with it as its origin).
#[derive(Clone, Copy, Debug)]
pub enum Via<'a> {
    /// Run in the browser.
    Browser,
    /// The REST API.
    Api,
    /// A re-run of run `.0`.
    Rerun(&'a str),
}

/// Starts a run of the workflow's latest version (or `version`) with
/// `input`. Returns the run id; the caller wakes the engine.
pub async fn start(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    version: Option<i64>,
    input: &Value,
    via: Via<'_>,
    now: i64,
) -> Result<RunId, AppError> {
    let (rerun_of, origin) = match via {
        Via::Browser => (None, RunOrigin::Manual),
        Via::Api => (None, RunOrigin::Api),
        Via::Rerun(of) => (Some(of), RunOrigin::Rerun),
    };
    let wf = super::workflows::get(db, workflow_id, version).await?;
    let problems = validate(&wf.definition);
    if !problems.is_empty() {
        let mut e = AppError::invalid_workflow(problems);
        e.message = format!(
            "version {} of this workflow cannot run: {}",
            wf.version, e.message
        );
        return Err(e);
    }
    check_input(&wf.definition, input)?;
    let mut tx = db.write().await?;
    let id = insert(
        &mut tx,
        actor,
        workflow_id,
        wf.version,
        &wf.definition,
        input,
        (rerun_of, origin),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(run_id = %id, workflow_id, version = wf.version, "run started");
    Ok(id)
}

/// Starts a test run of `def`, a working copy that was not saved: the
/// snapshot is kept with the run (as version −n) and the run is marked as
/// a test. Refused, with the problems, unless the copy could run.
pub async fn start_test(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    def: &WorkflowDef,
    input: &Value,
    now: i64,
) -> Result<RunId, AppError> {
    let problems = validate(def);
    if !problems.is_empty() {
        let mut e = AppError::invalid_workflow(problems);
        e.message = format!("the working copy cannot run: {}", e.message);
        return Err(e);
    }
    check_input(def, input)?;
    let mut tx = db.write().await?;
    let version = workflows::insert_snapshot(&mut tx, workflow_id, def, &actor.0, now)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found(format!("no workflow '{workflow_id}'")),
            other => other.into(),
        })?;
    let id = insert(
        &mut tx,
        actor,
        workflow_id,
        version,
        def,
        input,
        (None, RunOrigin::Test),
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(run_id = %id, workflow_id, version, "test run started");
    Ok(id)
}

/// The run, its steps (Start ready) and its audit event, in `tx`.
#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut sqlx::SqliteConnection,
    actor: &Actor,
    workflow_id: &str,
    version: i64,
    def: &WorkflowDef,
    input: &Value,
    (rerun_of, origin): (Option<&str>, RunOrigin),
    now: i64,
) -> Result<RunId, AppError> {
    let id = RunId::generate();
    let deadline_at = def
        .settings
        .run_timeout_ms
        .map(|ms| crate::domain::limits::after(now, ms));
    runs::insert_run(
        &mut *tx,
        &runs::NewRun {
            id: &id,
            workflow_id,
            version,
            input,
            started_by: &actor.0,
            now,
            deadline_at,
            rerun_of,
            origin,
        },
    )
    .await?;
    let steps: Vec<(&str, StepStatus)> = def
        .nodes
        .iter()
        .map(|node| {
            let status = if matches!(node.kind, NodeKind::Start { .. }) {
                StepStatus::Ready
            } else {
                StepStatus::Pending
            };
            (node.id.as_str(), status)
        })
        .collect();
    runs::insert_steps(&mut *tx, &id, &steps, now).await?;
    let mut details = json!({"workflow_id": workflow_id, "version": version, "rerun_of": rerun_of});
    if crate::domain::records::is_test_version(version) {
        details["test"] = json!(true);
    }
    audit::append(
        &mut *tx,
        &NewAuditEvent::run(now, &actor.0, "run.started", &id, details),
    )
    .await?;
    Ok(id)
}

/// Refuses input that does not match the Start node's schema, before
/// anything is stored.
fn check_input(def: &WorkflowDef, input: &Value) -> Result<(), AppError> {
    let schema = def.nodes.iter().find_map(|n| match &n.kind {
        NodeKind::Start { input_schema } => input_schema.as_ref(),
        _ => None,
    });
    match schema.map(|s| crate::schema::check(s, input)) {
        Some(Err(problems)) => Err(AppError::new(
            ErrorCode::InvalidInput,
            format!(
                "the input does not match the Start node's schema: {}",
                problems.join("; ")
            ),
        )),
        _ => Ok(()),
    }
}

/// Starts a new run with the same input, on the same or the latest version.
pub async fn rerun(
    db: &Db,
    actor: &Actor,
    run_id: &str,
    latest: bool,
    now: i64,
) -> Result<RunId, AppError> {
    let run_id = &parse_run_id(run_id)?;
    let run = get_record(db, run_id).await?;
    let version = if latest { None } else { Some(run.version) };
    start(
        db,
        actor,
        &run.workflow_id,
        version,
        &run.input,
        Via::Rerun(run_id.as_str()),
        now,
    )
    .await
}

async fn get_record(db: &Db, run_id: &str) -> Result<crate::domain::records::RunRecord, AppError> {
    let run_id = &parse_run_id(run_id)?;
    let mut conn = db.pool.acquire().await.map_err(StoreError::from)?;
    runs::get_run(&mut conn, run_id)
        .await
        .map_err(run_not_found(run_id))
}

pub async fn get(db: &Db, run_id: &str) -> Result<RunDetail, AppError> {
    let run_id = &parse_run_id(run_id)?;
    let mut conn = db.pool.acquire().await.map_err(StoreError::from)?;
    let run = runs::get_run(&mut conn, run_id)
        .await
        .map_err(run_not_found(run_id))?;
    let steps = runs::get_steps(&mut conn, run_id).await?;
    let waits = runs::waits(&mut conn, run_id).await?;
    let number = runs::number(&mut conn, &run).await?;
    let (workflow_name, step_names) =
        match workflows::get_any(&mut conn, &run.workflow_id, run.version).await {
            Ok(w) => (
                w.name,
                w.definition
                    .nodes
                    .iter()
                    .map(|n| (n.id.clone(), n.name.clone()))
                    .collect(),
            ),
            Err(_) => (String::new(), Default::default()),
        };
    Ok(RunDetail {
        run,
        steps,
        workflow_name,
        number,
        step_names,
        waits,
    })
}

/// The newest run of a workflow with its steps (the designer's data
/// panel shows what it produced), if it ran at all.
pub async fn latest(db: &Db, workflow_id: &str) -> Result<Option<RunDetail>, AppError> {
    let id = {
        let mut conn = db.pool.acquire().await.map_err(StoreError::from)?;
        runs::latest_of(&mut conn, workflow_id).await?
    };
    match id {
        Some(id) => Ok(Some(get(db, &id).await?)),
        None => Ok(None),
    }
}

pub async fn attempts(db: &Db, run_id: &str) -> Result<Vec<AttemptRecord>, AppError> {
    let run_id = &parse_run_id(run_id)?;
    let mut conn = db.pool.acquire().await.map_err(StoreError::from)?;
    runs::get_run(&mut conn, run_id)
        .await
        .map_err(run_not_found(run_id))?;
    Ok(runs::get_attempts(&mut conn, run_id).await?)
}

/// Cancels a running run: its open steps are cancelled; a step running
/// right now finishes but its result is discarded.
pub async fn cancel(db: &Db, actor: &Actor, run_id: &str, now: i64) -> Result<(), AppError> {
    let run_id = &parse_run_id(run_id)?;
    let mut tx = db.write().await?;
    let run = runs::get_run(&mut tx, run_id)
        .await
        .map_err(run_not_found(run_id))?;
    operations::cancel(run.status).map_err(|m| AppError::new(ErrorCode::Conflict, m))?;
    let reason = format!("cancelled by {actor}");
    progress::end_run(
        &mut tx,
        run_id,
        &RunEnd::failed(RunStatus::Cancelled, reason),
        &actor.0,
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Runs a failed step again (optionally with an edited context as its
/// input) and reopens its run. Steps cancelled by the failure resume.
pub async fn retry_step(
    db: &Db,
    actor: &Actor,
    run_id: &str,
    node_id: &str,
    input: Option<&Value>,
    now: i64,
) -> Result<(), AppError> {
    retry_step_on(db, actor, run_id, node_id, input, false, now).await
}

/// [`retry_step`], with `latest`: the run goes on under the workflow's
/// latest version (when the fix was in the definition); only a version
/// with the same steps that could run. The audit event says which.
pub async fn retry_step_on(
    db: &Db,
    actor: &Actor,
    run_id: &str,
    node_id: &str,
    input: Option<&Value>,
    latest: bool,
    now: i64,
) -> Result<(), AppError> {
    let run_id = &parse_run_id(run_id)?;
    if let Some(input) = input
        && !input.is_object()
    {
        return Err(AppError::bad_request(
            "the edited input must be a JSON object like {\"input\": {…}, \"steps\": {…}}",
        ));
    }
    let mut tx = db.write().await?;
    let run = runs::get_run(&mut tx, run_id)
        .await
        .map_err(run_not_found(run_id))?;
    let mut def: WorkflowDef = workflows::get_any(&mut tx, &run.workflow_id, run.version)
        .await?
        .definition;
    let steps = runs::get_steps(&mut tx, run_id).await?;
    let mut version = run.version;
    if !steps.iter().any(|s| s.node_id == node_id) {
        return Err(AppError::not_found(format!(
            "run '{run_id}' has no step '{node_id}'"
        )));
    }
    operations::retry(run.status, &steps, node_id)
        .map_err(|m| AppError::new(ErrorCode::Conflict, m))?;
    if latest {
        let newest = workflows::get(&mut tx, &run.workflow_id, None)
            .await
            .map_err(|_| {
                AppError::new(
                    ErrorCode::Conflict,
                    "the workflow was deleted; its runs cannot move to another version",
                )
            })?;
        if newest.version != run.version {
            let problems = validate(&newest.definition);
            if !problems.is_empty() {
                let mut e = AppError::invalid_workflow(problems);
                e.message = format!("version {} cannot run: {}", newest.version, e.message);
                return Err(e);
            }
            operations::same_steps(&def, &newest.definition, newest.version)
                .map_err(|m| AppError::new(ErrorCode::Conflict, m))?;
            runs::set_version(&mut tx, run_id, newest.version).await?;
            version = newest.version;
            def = newest.definition;
        }
    }
    // the step asks its people anew (an Approval, a confidence gate)
    crate::store::approvals::supersede(&mut tx, run_id, node_id, now).await?;
    // the run gets its whole timeout again from now
    let deadline_at = def
        .settings
        .run_timeout_ms
        .map(|ms| crate::domain::limits::after(now, ms));
    runs::reopen_for_retry(&mut tx, run_id, node_id, input, deadline_at, now).await?;
    let finished: Vec<String> = runs::node_states(&mut tx, run_id)
        .await?
        .into_iter()
        .filter(|(_, s)| s.status.is_final())
        .map(|(k, _)| k)
        .collect();
    let refs: Vec<&str> = finished.iter().map(String::as_str).collect();
    progress::advance(&mut tx, &def, run_id, &refs, &actor.0, now).await?;
    let mut details = json!({"node_id": node_id, "edited_input": input.is_some(), "previous_status": run.status, "version": version});
    if version != run.version {
        details["from_version"] = json!(run.version);
    }
    audit::append(
        &mut tx,
        &NewAuditEvent::run(now, &actor.0, "step.retried", run_id, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
