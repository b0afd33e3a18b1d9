//! Creating, saving, renaming and deleting workflows.

use crate::domain::audit::{Actor, NewAuditEvent, action};
use crate::domain::records::Paging;
use crate::domain::records::{VersionInfo, WorkflowSummary, WorkflowVersion};
use crate::domain::{WorkflowDef, validate};
use crate::error::{AppError, ErrorCode};
use crate::store::{Db, StoreError, audit, workflows};
use serde_json::{Value, json};

pub const MAX_NAME_CHARS: usize = 120;

/// Trims and checks a workflow name.
pub fn clean_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad_request("the workflow needs a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_request(format!(
            "the name is {} characters long; use at most {MAX_NAME_CHARS}",
            name.chars().count()
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "the name contains control characters (such as line breaks); remove them",
        ));
    }
    Ok(name.to_string())
}

fn not_found(id: &str) -> impl Fn(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::NotFound => AppError::not_found(format!("no workflow with id '{id}'")),
        other => other.into(),
    }
}

fn event(
    actor: &Actor,
    act: &str,
    id: &str,
    now: i64,
    details: serde_json::Value,
) -> NewAuditEvent {
    NewAuditEvent::new(now, &actor.0, act, format!("workflow:{id}"), details)
}

/// Creates a workflow. With `allow_draft` false (the REST API) an invalid
/// definition is refused with its problems; drafts may be saved from the UI.
pub async fn create(
    db: &Db,
    actor: &Actor,
    name: &str,
    def: &WorkflowDef,
    allow_draft: bool,
    now: i64,
) -> Result<WorkflowVersion, AppError> {
    let name = clean_name(name)?;
    let problems = validate(def);
    if !allow_draft && !problems.is_empty() {
        return Err(AppError::invalid_workflow(problems));
    }
    let id = format!("wf_{}", uuid::Uuid::now_v7().simple());
    let mut tx = db.write().await?;
    workflows::insert(&mut tx, &id, &name, def, problems.len(), &actor.0, now).await?;
    let details = json!({"name": name, "version": 1, "problems": problems.len()});
    audit::append(
        &mut tx,
        &event(actor, action::WORKFLOW_CREATED, &id, now, details),
    )
    .await?;
    let created = workflows::get(&mut tx, &id, None).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(workflow_id = %id, %name, "workflow created");
    Ok(created)
}

/// Saves a new immutable version of an existing workflow.
pub async fn save_version(
    db: &Db,
    actor: &Actor,
    id: &str,
    def: &WorkflowDef,
    allow_draft: bool,
    now: i64,
) -> Result<WorkflowVersion, AppError> {
    let mut problems = validate(def);
    problems.extend(super::calls::cycle_problems(db, id, def).await?);
    if !allow_draft && !problems.is_empty() {
        return Err(AppError::invalid_workflow(problems));
    }
    let mut tx = db.write().await?;
    let version = workflows::add_version(&mut tx, id, def, problems.len(), &actor.0, now)
        .await
        .map_err(not_found(id))?;
    let details = json!({"version": version, "problems": problems.len()});
    audit::append(
        &mut tx,
        &event(actor, action::WORKFLOW_VERSION_SAVED, id, now, details),
    )
    .await?;
    let mut saved = workflows::get(&mut tx, id, Some(version)).await?;
    tx.commit().await.map_err(StoreError::from)?;
    saved.problems = problems;
    Ok(saved)
}

pub async fn rename(
    db: &Db,
    actor: &Actor,
    id: &str,
    name: &str,
    now: i64,
) -> Result<(), AppError> {
    let name = clean_name(name)?;
    let mut tx = db.write().await?;
    let old = workflows::rename(&mut tx, id, &name, &actor.0, now)
        .await
        .map_err(not_found(id))?;
    let details = json!({"from": old, "to": name});
    audit::append(
        &mut tx,
        &event(actor, action::WORKFLOW_RENAMED, id, now, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn delete(db: &Db, actor: &Actor, id: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let name = workflows::soft_delete(&mut tx, id, &actor.0, now)
        .await
        .map_err(not_found(id))?;
    audit::append(
        &mut tx,
        &event(
            actor,
            action::WORKFLOW_DELETED,
            id,
            now,
            json!({"name": name}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// A page of the live workflows, most recently changed first.
pub async fn list(db: &Db, page: Paging) -> Result<Vec<WorkflowSummary>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(workflows::list(&mut conn, page).await?)
}

/// A page of a workflow's versions, newest first.
pub async fn versions(db: &Db, id: &str, page: Paging) -> Result<Vec<VersionInfo>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    workflows::versions(&mut conn, id, page)
        .await
        .map_err(not_found(id))
}

pub async fn get(
    db: &Db,
    id: &str,
    version: impl Into<workflows::Pick>,
) -> Result<WorkflowVersion, AppError> {
    let version = version.into();
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let mut w =
        workflows::get(&mut conn, id, version)
            .await
            .map_err(|e| match (e, version.number()) {
                (StoreError::NotFound, Some(v)) => {
                    AppError::not_found(format!("workflow '{id}' has no version {v}"))
                }
                (e, _) => not_found(id)(e),
            })?;
    w.problems = problems_of(&w.workflow_id, w.version, &w.definition);
    Ok(w)
}

/// A saved version never changes, so its problems are worked out once per
/// process (a 1,000-step graph takes hundreds of milliseconds the first
/// time) and remembered for the most recently opened versions.
pub(crate) fn problems_of(
    workflow_id: &str,
    version: i64,
    def: &crate::domain::graph::WorkflowDef,
) -> Vec<crate::domain::Problem> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    const REMEMBERED: usize = 256;
    type Key = (String, i64);
    static KNOWN: LazyLock<Mutex<HashMap<Key, Vec<crate::domain::Problem>>>> =
        LazyLock::new(Default::default);
    let key = (workflow_id.to_string(), version);
    if let Some(p) = KNOWN.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return p;
    }
    let problems = validate(def);
    if let Ok(mut m) = KNOWN.lock() {
        if m.len() >= REMEMBERED {
            m.clear();
        }
        m.insert(key, problems.clone());
    }
    problems
}

/// How a publish treats the workflow's golden-set gate.
#[derive(Clone, Copy)]
pub enum Gate<'a> {
    /// Refuse a version that falls short; `eval` judges the suite's runs.
    Check(Option<&'a dyn crate::ops::golden::Evaluate>),
    /// Publish even so (an admin's decision), recording why in the audit.
    Override(Option<&'a dyn crate::ops::golden::Evaluate>),
}

/// Publishes saved `version`: from now on triggers and a REST start that
/// names no version run it. Only a version without problems can be
/// published; a workflow has at most one published version. Under a
/// golden-set gate, only a version whose newest suite clears it (unless
/// overridden, which the audit event says).
pub async fn publish(
    db: &Db,
    actor: &Actor,
    id: &str,
    version: i64,
    gate: Gate<'_>,
    now: i64,
) -> Result<WorkflowVersion, AppError> {
    if version < 1 {
        return Err(AppError::bad_request(format!(
            "version {version} is not a saved version; publish one listed under Versions"
        )));
    }
    let mut w = get(db, id, Some(version)).await?;
    // published, it is what other workflows' calls run: no call may lead back
    w.problems
        .extend(super::calls::cycle_problems(db, id, &w.definition).await?);
    if !w.problems.is_empty() {
        let mut e = AppError::invalid_workflow(w.problems);
        e.message = format!("version {version} cannot be published: {}", e.message);
        return Err(e);
    }
    let (eval, overriding) = match gate {
        Gate::Check(e) => (e, false),
        Gate::Override(e) => (e, true),
    };
    let golden = match crate::ops::golden::gate_check(db, eval, id, version, now).await? {
        crate::ops::golden::GateVerdict::None => Value::Null,
        crate::ops::golden::GateVerdict::Passed(t) => json!({"passed": t.passed, "cases": t.total}),
        crate::ops::golden::GateVerdict::Short(why) if overriding => json!({"overridden": why}),
        crate::ops::golden::GateVerdict::Short(why) => {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "version {version} cannot be published: {why} (an admin may publish it anyway)"
                ),
            ));
        }
    };
    let mut tx = db.write().await?;
    let before = workflows::set_published(&mut tx, id, Some(version), &actor.0, now)
        .await
        .map_err(not_found(id))?;
    let mut details = json!({"version": version, "before": before});
    if !golden.is_null() {
        details["golden_set"] = golden;
    }
    audit::append(
        &mut tx,
        &event(actor, action::WORKFLOW_PUBLISHED, id, now, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(WorkflowVersion {
        published_version: Some(version),
        ..w
    })
}

/// Takes the published version back: triggers stop starting runs, and a
/// REST start without a version runs the latest again.
pub async fn unpublish(db: &Db, actor: &Actor, id: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let before = workflows::set_published(&mut tx, id, None, &actor.0, now)
        .await
        .map_err(not_found(id))?;
    let Some(version) = before else {
        return Err(AppError::new(
            crate::error::ErrorCode::Conflict,
            "no version of this workflow is published",
        ));
    };
    audit::append(
        &mut tx,
        &event(
            actor,
            action::WORKFLOW_UNPUBLISHED,
            id,
            now,
            json!({"version": version}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Longest retention a workflow may set, in days (100 years).
pub const MAX_RETENTION_DAYS: i64 = 36_500;

/// Sets how many days the workflow's finished runs are kept (None: the
/// instance default). Audited; the runs go on the next retention sweep.
pub async fn set_retention(
    db: &Db,
    actor: &Actor,
    id: &str,
    days: Option<i64>,
    now: i64,
) -> Result<(), AppError> {
    if let Some(d) = days
        && !(1..=MAX_RETENTION_DAYS).contains(&d)
    {
        return Err(AppError::bad_request(format!(
            "days must be 1 to {MAX_RETENTION_DAYS}, or null for the instance default"
        )));
    }
    let mut tx = db.write().await?;
    crate::store::retention::set_days(&mut tx, id, days)
        .await
        .map_err(not_found(id))?;
    audit::append(
        &mut tx,
        &event(
            actor,
            action::WORKFLOW_RETENTION,
            id,
            now,
            json!({"days": days}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// How many days the workflow's finished runs are kept (None: the
/// instance default).
pub async fn retention(db: &Db, id: &str) -> Result<Option<i64>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    crate::store::retention::days_of(&mut conn, id)
        .await
        .map_err(not_found(id))
}

/// The published version of a workflow, if one is.
pub async fn published(db: &Db, id: &str) -> Result<Option<i64>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    workflows::published(&mut conn, id)
        .await
        .map_err(not_found(id))
}
