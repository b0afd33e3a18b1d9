//! Runs: reading them back, cancelling them and retrying their steps;
//! starting them is in `start.rs`.

mod ahead;
mod idempotent;
mod insert;
mod rerun;
mod start;
pub use ahead::prepare_ahead;
pub use idempotent::{MAX_IDEMPOTENCY_KEY, Started, start_once};
pub use insert::{RunRows, insert, insert_first};
pub use rerun::rerun;
pub use start::{
    Runnable, Via, check_input, insert_prepared, prepare, runnable, start, start_chaos, start_in,
    start_test,
};

use super::progress;
use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::graph::{NodeKind, WorkflowDef};
use crate::domain::ids::RunId;
use crate::domain::operations;
use crate::domain::records::{AttemptRecord, RunDetail};
use crate::domain::run::RunStatus;
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

async fn get_record(db: &Db, run_id: &str) -> Result<crate::domain::records::RunRecord, AppError> {
    let run_id = &parse_run_id(run_id)?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    runs::get_run(&mut conn, run_id)
        .await
        .map_err(run_not_found(run_id))
}

pub async fn get(db: &Db, run_id: &str) -> Result<RunDetail, AppError> {
    let run_id = &parse_run_id(run_id)?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let view = runs::view(&mut conn, run_id)
        .await
        .map_err(run_not_found(run_id))?;
    detail(&mut conn, run_id, view).await
}

/// The run as [`get`] answers it, from the view statements `at` of the
/// batch `done` (see `store::runs::queue_view`): a start that answers with
/// its run reads it in the transaction that wrote it. None when the batch
/// stopped before them.
pub async fn get_from(
    db: &Db,
    run_id: &RunId,
    done: &crate::store::conn::Results,
    at: runs::ViewAt,
) -> Result<Option<RunDetail>, AppError> {
    if !at.read_in(done) {
        return Ok(None);
    }
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let view = runs::view_at(&mut conn, done, at, run_id)
        .await
        .map_err(run_not_found(run_id.as_str()))?;
    Ok(Some(detail(&mut conn, run_id, view).await?))
}

/// A run's detail from its view, with what the view leaves out read on
/// `conn` (children, iterations, model usage, an item run's number).
async fn detail(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    (head, steps, waits): runs::View,
) -> Result<RunDetail, AppError> {
    let runs::RunHead {
        run,
        number,
        workflow_name,
        definition,
    } = head;
    // what its version has no step for cannot have happened (a version
    // never changes); without the version, everything is read
    let may = |has: fn(&NodeKind) -> bool| match &definition {
        Some(d) => d.nodes.iter().any(|n| has(&n.kind)),
        None => true,
    };
    let children = match may(|k| matches!(k, NodeKind::SubWorkflow { .. })) {
        true => runs::children(conn, run_id).await?,
        false => Default::default(),
    };
    let iterations = match may(|k| matches!(k, NodeKind::ForEach(_))) {
        true => runs::iterations(conn, run_id).await?,
        false => Default::default(),
    };
    let usage = match may(|k| matches!(k, NodeKind::Llm(_))) {
        true => runs::model_usage(conn, run_id).await?,
        false => None,
    };
    // an item run goes by the number of the run it iterates for
    let number = match (&run.item, number) {
        (_, Some(n)) => n,
        (Some(i), None) => {
            let root = crate::domain::ids::RunId::from_stored(i.root.clone());
            runs::head(conn, &root).await?.number.unwrap_or(0)
        }
        (None, None) => 0,
    };
    let step_names = definition
        .map(|d| {
            d.nodes
                .iter()
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(RunDetail {
        children,
        iterations,
        run,
        steps,
        workflow_name: workflow_name.unwrap_or_default(),
        number,
        step_names,
        waits,
        usage,
    })
}

/// Items of For each `node` of run `run_id` in list order (its latest list),
/// from index `from`, at most `limit` (1 to 500).
pub async fn items(
    db: &Db,
    run_id: &str,
    node: &str,
    from: i64,
    limit: i64,
) -> Result<Vec<crate::domain::records::ItemRun>, AppError> {
    let run_id = &parse_run_id(run_id)?;
    if !(1..=500).contains(&limit) || from < 0 {
        return Err(AppError::bad_request(
            "limit must be from 1 to 500 and from at least 0",
        ));
    }
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    runs::get_run(&mut conn, run_id)
        .await
        .map_err(run_not_found(run_id))?;
    let Some(round) = runs::current_round(&mut conn, run_id.as_str(), node).await? else {
        return Err(AppError::not_found(format!(
            "run '{run_id}' has no list of a For each step '{node}'"
        )));
    };
    Ok(runs::item_runs(&mut conn, run_id.as_str(), node, round, from, limit).await?)
}

/// The newest run of a workflow with its steps (the designer's data
/// panel shows what it produced), if it ran at all.
pub async fn latest(db: &Db, workflow_id: &str) -> Result<Option<RunDetail>, AppError> {
    let id = {
        let mut conn = db.acquire().await.map_err(StoreError::from)?;
        runs::latest_of(&mut conn, workflow_id).await?
    };
    match id {
        Some(id) => Ok(Some(get(db, &id).await?)),
        None => Ok(None),
    }
}

/// A page of a run's step log.
pub async fn attempts(
    db: &Db,
    run_id: &str,
    page: crate::domain::records::Paging,
) -> Result<Vec<AttemptRecord>, AppError> {
    let run_id = &parse_run_id(run_id)?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    runs::get_run(&mut conn, run_id)
        .await
        .map_err(run_not_found(run_id))?;
    Ok(runs::get_attempts(&mut conn, run_id, page).await?)
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
    if let (Some(item), Some(parent), Some(node)) =
        (&run.item, &run.parent_run_id, &run.parent_node_id)
    {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "this run is item {} of the For each step '{node}' of run {parent}; retry that step there",
                item.index
            ),
        ));
    }
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
    let def = def.scope(None);
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
