//! Starting runs: in the browser, through the API, as a re-run, or as a
//! test run of an unsaved working copy; each run keeps how it started.

use super::insert::{RunRows, insert};
use crate::domain::audit::Actor;
use crate::domain::graph::{NodeKind, WorkflowDef};
use crate::domain::ids::RunId;
use crate::domain::run::RunOrigin;
use crate::domain::validate;
use crate::error::{AppError, ErrorCode};
use crate::store::conn::Finish;
use crate::store::{Db, StoreError, audit, workflows};
use serde_json::Value;

/// How a run is being started (kept with it as its origin).
#[derive(Clone, Copy, Debug)]
pub enum Via<'a> {
    /// Run in the browser.
    Browser,
    /// The REST API.
    Api,
    /// A re-run of run `.0`.
    Rerun(&'a str),
    /// A webhook delivery to trigger `.0`.
    Webhook(&'a str),
    /// A fire of schedule `.0`.
    Schedule(&'a str),
    /// The Sub-workflow step `.1` of run `.0`.
    Child(&'a str, &'a str),
    /// An item of the For each step `.1` of run `.0`.
    Item(&'a str, &'a str, &'a crate::domain::records::ItemPlace),
    /// A case of a golden set, with faults injected when a plan is given.
    Golden(Option<&'a crate::domain::chaos::ChaosPlan>),
}

impl<'a> Via<'a> {
    /// What is stored of it with the run.
    pub(super) fn parts(self) -> Origin<'a> {
        let o = |rerun_of, origin, trigger_id, parent| Origin {
            rerun_of,
            origin,
            trigger_id,
            parent,
            item: None,
            chaos: None,
            idempotency_key: None,
        };
        match self {
            Via::Browser => o(None, RunOrigin::Manual, None, None),
            Via::Api => o(None, RunOrigin::Api, None, None),
            Via::Rerun(of) => o(Some(of), RunOrigin::Rerun, None, None),
            Via::Golden(chaos) => Origin {
                chaos,
                ..o(None, RunOrigin::Golden, None, None)
            },
            Via::Webhook(t) => o(None, RunOrigin::Webhook, Some(t), None),
            Via::Schedule(t) => o(None, RunOrigin::Schedule, Some(t), None),
            Via::Child(run, node) => o(None, RunOrigin::Parent, None, Some((run, node))),
            Via::Item(run, node, place) => Origin {
                item: Some(place),
                ..o(None, RunOrigin::Item, None, Some((run, node)))
            },
        }
    }
}

/// Where a run came from, as stored with it.
pub(super) struct Origin<'a> {
    pub rerun_of: Option<&'a str>,
    pub origin: RunOrigin,
    pub trigger_id: Option<&'a str>,
    pub parent: Option<(&'a str, &'a str)>,
    pub item: Option<&'a crate::domain::records::ItemPlace>,
    pub chaos: Option<&'a crate::domain::chaos::ChaosPlan>,
    pub idempotency_key: Option<&'a str>,
}

/// A version that can run: loaded, and without problems.
#[derive(Clone, Debug, PartialEq)]
pub struct Runnable {
    pub workflow_id: String,
    pub version: i64,
    pub def: std::sync::Arc<WorkflowDef>,
}

/// Loads the workflow's latest version (or `version`) and refuses it, with
/// its problems, unless it can run. Only which version that is gets read
/// each time: a version never changes, so its graph and its problems are
/// the ones this process remembers (see `workflows::definition`).
pub async fn runnable(
    db: &Db,
    workflow_id: &str,
    version: impl Into<workflows::Pick>,
) -> Result<Runnable, AppError> {
    let pick = version.into();
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let read = match workflows::version_of(&mut conn, workflow_id, pick).await {
        Ok(v) => workflows::definition(&mut conn, workflow_id, v)
            .await
            .map(|def| (v, def)),
        Err(e) => Err(e),
    };
    let (version, def) = read.map_err(|e| match (e, pick.number()) {
        (StoreError::NotFound, Some(v)) => {
            AppError::not_found(format!("workflow '{workflow_id}' has no version {v}"))
        }
        (StoreError::NotFound, None) => {
            AppError::not_found(format!("no workflow with id '{workflow_id}'"))
        }
        (e, _) => e.into(),
    })?;
    drop(conn);
    let problems = crate::ops::workflows::problems_of(workflow_id, version, &def);
    if !problems.is_empty() {
        let mut e = AppError::invalid_workflow(problems);
        e.message = format!(
            "version {version} of this workflow cannot run: {}",
            e.message
        );
        return Err(e);
    }
    super::ahead::note(workflow_id, pick, version);
    Ok(Runnable {
        workflow_id: workflow_id.to_string(),
        version,
        def,
    })
}

/// Starts a run of the workflow's latest version (or `version`) with
/// `input`. Returns the run id; the caller wakes the engine.
pub async fn start(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    version: impl Into<workflows::Pick>,
    input: &Value,
    via: Via<'_>,
    now: i64,
) -> Result<RunId, AppError> {
    let rows = prepare(db, actor, workflow_id, version, input, via, now).await?;
    insert_prepared(db, rows).await
}

/// Starts a chaos run: as [`start`], with `chaos`'s faults injected into
/// its steps. Refused for a run a trigger would start, and for a plan that
/// names a step the version does not have or is out of range.
#[allow(clippy::too_many_arguments)]
pub async fn start_chaos(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    version: impl Into<workflows::Pick>,
    input: &Value,
    via: Via<'_>,
    chaos: &crate::domain::chaos::ChaosPlan,
    now: i64,
) -> Result<RunId, AppError> {
    if !matches!(via, Via::Browser | Via::Api | Via::Golden(_)) {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "faults are injected only into runs started by hand, through the API or by a golden set, never into triggered runs",
        ));
    }
    let rows = prepare_run(
        db,
        actor,
        workflow_id,
        version.into(),
        input,
        via,
        Some(chaos),
        None,
        now,
    )
    .await?;
    insert_prepared(db, rows).await
}

/// Checks and builds a run of the workflow's latest version (or
/// `version`) with `input`, as [`start`] would start it, without storing
/// it: [`insert_prepared`] stores it, or the engine carries it through its
/// opening pure steps in the transaction that stores it.
pub async fn prepare(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    version: impl Into<workflows::Pick>,
    input: &Value,
    via: Via<'_>,
    now: i64,
) -> Result<RunRows, AppError> {
    prepare_run(
        db,
        actor,
        workflow_id,
        version.into(),
        input,
        via,
        None,
        None,
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn prepare_run(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    version: workflows::Pick,
    input: &Value,
    via: Via<'_>,
    chaos: Option<&crate::domain::chaos::ChaosPlan>,
    idempotency_key: Option<&str>,
    now: i64,
) -> Result<RunRows, AppError> {
    let r = runnable(db, workflow_id, version).await?;
    check_input(&r.def, input)?;
    if let Some(plan) = chaos {
        let problems = plan.problems(|s| r.def.node(s).is_some());
        if !problems.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("the chaos plan cannot run: {}", problems.join("; ")),
            ));
        }
    }
    let parts = Origin {
        chaos,
        idempotency_key,
        ..via.parts()
    };
    // its rows are made before the write gate is taken
    Ok(RunRows::new(
        actor,
        workflow_id,
        r.version,
        &r.def,
        input,
        parts,
        now,
    ))
}

/// Stores a prepared run: the run, its steps (Start ready) and its audit
/// event, in one transaction. The caller wakes the engine.
pub async fn insert_prepared(db: &Db, mut rows: RunRows) -> Result<RunId, AppError> {
    // a new run, seen by nobody before the commit: beside other runs
    let mut tx = db.write_run(None).await?;
    let mut b = crate::store::conn::Batch::new();
    let queued = rows.queue(&mut tx, &mut b);
    // with its COMMIT when its audit event went in it (unless the chain's
    // head moved); on PostgreSQL the event is appended after the batch
    let ran = match queued.is_some() {
        true => b.commit(tx).await,
        false => match b.run(&mut tx).await {
            Ok(done) => Ok(Finish::Open(tx, done)),
            Err(e) => Err(e),
        },
    };
    if let Finish::Open(mut tx, done) = ran.map_err(StoreError::from)? {
        audit::settle(&mut tx, &done, queued, &rows.event).await?;
        tx.commit().await.map_err(StoreError::from)?;
    }
    let r = &rows.record;
    tracing::info!(run_id = %rows.id, workflow_id = r.workflow_id, version = r.version, chaos = r.chaos.is_some(), "run started");
    Ok(rows.id)
}

/// Starts a run of `r` inside `tx` (which the caller commits), for callers
/// that record something else in the same transaction (a trigger's
/// delivery or fire, a step's child or item). The input must have passed
/// [`check_input`]; what can fail is the store.
pub async fn start_in(
    tx: &mut crate::store::conn::Conn,
    actor: &Actor,
    r: &Runnable,
    input: &Value,
    via: Via<'_>,
    now: i64,
) -> crate::store::Result<RunId> {
    let rows = RunRows::new(
        actor,
        &r.workflow_id,
        r.version,
        &r.def,
        input,
        via.parts(),
        now,
    );
    insert(tx, rows).await
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
    let rows = RunRows::new(
        actor,
        workflow_id,
        version,
        def,
        input,
        Origin {
            rerun_of: None,
            origin: RunOrigin::Test,
            trigger_id: None,
            parent: None,
            item: None,
            chaos: None,
            idempotency_key: None,
        },
        now,
    );
    let id = insert(&mut tx, rows).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(run_id = %id, workflow_id, version, "test run started");
    Ok(id)
}

/// Refuses input that does not match the Start node's schema, before
/// anything is stored.
pub fn check_input(def: &WorkflowDef, input: &Value) -> Result<(), AppError> {
    let schema = def
        .nodes
        .iter()
        .filter(|n| n.parent.is_none())
        .find_map(|n| match &n.kind {
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
