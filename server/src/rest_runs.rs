//! REST API v1: runs.

use crate::rest::Who;
use crate::rest::{ApiJson, ApiQuery, ApiResult, optional_json};
use crate::routes::AppState;
use app::domain::audit::Actor;
use app::domain::auth::Permission;
use app::domain::records::AttemptRecord;
use app::domain::run::RunStatus;
use app::ops::{self, runs};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// A run was started: its id.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct StartedRun {
    pub run_id: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    #[serde(default)]
    input: Value,
    /// Run this version; without one, the published version (or, when
    /// none is published, the latest).
    #[serde(default)]
    version: Option<i64>,
    /// Inject these faults into the run's steps (a chaos run, left out of
    /// monitoring). The same seed gives the same faults.
    #[serde(default)]
    chaos: Option<app::domain::chaos::ChaosPlan>,
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartQuery {
    /// Answer with the run (as `GET /api/v1/runs/{id}` shows it) once it
    /// ended, or when this many ms (at most 60,000) have passed: a
    /// synchronous start, one request instead of a start and a wait.
    #[serde(default)]
    wait_ms: u64,
}

/// Starts a run. With an `Idempotency-Key` header, a repeat of the request
/// (same workflow, same key, same input) answers 200 with the first run and
/// `Idempotent-Replayed: true` instead of starting another. With
/// `wait_ms`, the answer is the run itself once it ended (200).
pub async fn start_run(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<StartQuery>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<StartBody>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let p = who.may(Permission::OperateRuns, "start runs")?;
    // without a version, the published one (or the latest), in the same
    // read as the version itself
    let version = body
        .version
        .map_or(app::store::workflows::Pick::Published, |v| {
            app::store::workflows::Pick::Version(v)
        });
    let actor = &Actor(p.actor.clone());
    let (via, now) = (runs::Via::Api, ops::now_ms());
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            app::error::AppError::bad_request(
                "the Idempotency-Key header must be visible ASCII characters",
            )
        })?),
    };
    // a run its start ended, as its transaction left it
    let mut viewed = None;
    let (run_id, replayed) = match (key, &body.chaos) {
        (Some(key), chaos) => {
            let started = runs::start_once(
                &s.db,
                actor,
                &id,
                version,
                &body.input,
                chaos.as_ref(),
                key,
                now,
            )
            .await?;
            (started.run_id, started.replayed)
        }
        (None, Some(plan)) => (
            runs::start_chaos(&s.db, actor, &id, version, &body.input, via, plan, now).await?,
            false,
        ),
        (None, None) => {
            // carried through its opening pure steps before the answer,
            // and read as it ended: answered now, or kept for the GET
            // (where answers are kept: not on PostgreSQL)
            let view = q.wait_ms > 0 || s.engine.keeps_views();
            let started = s
                .engine
                .start_new(actor, &id, version, &body.input, via, (now, view))
                .await?;
            viewed = started.view;
            (started.id, false)
        }
    };
    // the engine knows what a run it started left due
    if key.is_some() || body.chaos.is_some() {
        s.engine.wake();
    }
    let (status, replay) = match replayed {
        true => (StatusCode::OK, "true"),
        false => (StatusCode::ACCEPTED, "false"),
    };
    let header = [("idempotent-replayed", replay)];
    if q.wait_ms == 0 {
        if let Some(v) = &viewed {
            s.engine.keep_view(v);
        }
        let started = Json(StartedRun {
            run_id: run_id.to_string(),
        });
        return Ok((status, header, started).into_response());
    }
    let run = match viewed {
        // a run the start ended was read as it committed
        Some(v) => v.run,
        None => {
            wait_to_end(&s, run_id.as_str(), q.wait_ms).await?;
            runs::get(&s.db, run_id.as_str()).await?
        }
    };
    Ok((StatusCode::OK, header, Json(run)).into_response())
}

/// Waits up to `wait_ms` (at most 60,000) for run `run_id` to end.
async fn wait_to_end(s: &AppState, run_id: &str, wait_ms: u64) -> ApiResult<()> {
    let limit = Duration::from_millis(wait_ms.min(60_000));
    match s.engine.wait_for_end(run_id, limit).await {
        Ok(_) | Err(app::store::StoreError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRunQuery {
    /// Wait up to this long (ms, at most 60,000) for a running run to end.
    #[serde(default)]
    wait_ms: u64,
}

pub async fn get_run(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<GetRunQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    who.may(Permission::Read, "see runs")?;
    // a run its REST start ended, as that start read it (nothing written
    // since may have changed it): no read at all
    if let Some(body) = s.engine.kept_view(&id) {
        let json = [(header::CONTENT_TYPE, "application/json")];
        return Ok((json, body).into_response());
    }
    // the first look is the read itself: a run that has ended (as one a
    // REST start carried through has) is answered without a wait's look
    let run = runs::get(&s.db, &id).await?;
    if q.wait_ms == 0 || run.run.status != RunStatus::Running {
        return Ok(Json(run).into_response());
    }
    wait_to_end(&s, run.run.id.as_str(), q.wait_ms).await?;
    Ok(Json(runs::get(&s.db, &id).await?).into_response())
}

pub async fn get_attempts(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<crate::rest::PageQuery>,
) -> ApiResult<Json<Vec<AttemptRecord>>> {
    who.may(Permission::Read, "see runs")?;
    Ok(Json(runs::attempts(&s.db, &id, q.paging(200)?).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemsQuery {
    /// The first item's index (from 0).
    #[serde(default)]
    from: i64,
    /// How many items (1 to 500, default 100).
    #[serde(default = "hundred")]
    limit: i64,
}

fn hundred() -> i64 {
    100
}

/// A page of a For each step's items in list order: each item's run,
/// status and output (the results of a list too long to gather).
pub async fn get_items(
    State(s): State<AppState>,
    who: Who,
    Path((id, node)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<ItemsQuery>,
) -> ApiResult<Json<Vec<app::domain::records::ItemRun>>> {
    who.may(Permission::Read, "see runs")?;
    Ok(Json(runs::items(&s.db, &id, &node, q.from, q.limit).await?))
}

pub async fn cancel_run(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = who.may(Permission::OperateRuns, "cancel runs")?;
    runs::cancel(&s.db, &Actor(p.actor.clone()), &id, ops::now_ms()).await?;
    // its approval items leave the open inboxes
    s.engine.changes().notify("approvals");
    s.engine.changes().notify(format!("run:{id}"));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RerunBody {
    /// Run on the workflow's latest version instead of the original one.
    #[serde(default)]
    latest: bool,
}

pub async fn rerun(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<StartedRun>)> {
    let p = who.may(Permission::OperateRuns, "re-run runs")?;
    let latest = optional_json::<RerunBody>(&body)?.latest;
    let run_id = runs::rerun(&s.db, &Actor(p.actor.clone()), &id, latest, ops::now_ms()).await?;
    s.engine.wake();
    Ok((
        StatusCode::ACCEPTED,
        Json(StartedRun {
            run_id: run_id.to_string(),
        }),
    ))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    /// Replaces the context the step sees (`{input, steps}`).
    #[serde(default)]
    input: Option<Value>,
    /// Go on under the workflow's latest version (it must have the same
    /// steps and no problems).
    #[serde(default)]
    latest: bool,
}

pub async fn retry_step(
    State(s): State<AppState>,
    who: Who,
    Path((id, node_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let p = who.may(Permission::OperateRuns, "retry steps")?;
    let body = optional_json::<RetryBody>(&body)?;
    runs::retry_step_on(
        &s.db,
        &Actor(p.actor.clone()),
        &id,
        &node_id,
        body.input.as_ref(),
        body.latest,
        ops::now_ms(),
    )
    .await?;
    s.engine.wake();
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct RunsQuery {
    workflow_id: Option<String>,
    status: Option<String>,
    started_by: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    /// Text the run's input contains.
    q: Option<String>,
    /// `true`: test runs of unsaved working copies only; `false`: none.
    test: Option<bool>,
    /// Keyset paging: `next` of the previous page.
    before_at: Option<i64>,
    before_id: Option<String>,
    limit: Option<i64>,
}

/// A page of runs, newest first, with counts per status.
pub async fn list(
    State(s): State<AppState>,
    who: Who,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> ApiResult<Json<app::domain::records::RunPage>> {
    who.may(Permission::Read, "see runs")?;
    let filter = app::domain::records::RunFilter {
        workflow_id: q.workflow_id,
        status: q.status,
        started_by: q.started_by,
        from: q.from,
        to: q.to,
        q: q.q,
        test: q.test,
        before: q.before_at.zip(q.before_id),
    }
    .cleaned();
    let mut conn = s.db.acquire().await.map_err(app::store::StoreError::from)?;
    let page =
        app::store::runs::search(&mut conn, &filter, q.limit.unwrap_or(50).clamp(1, 500)).await?;
    Ok(Json(page))
}
