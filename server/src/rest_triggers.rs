//! REST API v1: a workflow's triggers (webhooks and schedules).

use crate::rest::{ApiJson, ApiQuery, ApiResult, Who};
use crate::routes::AppState;
use app::domain::audit::Actor;
use app::domain::auth::Permission;
use app::domain::triggers::TriggerInput;
use app::domain::triggers::view::{TriggerView, WithSecret};
use app::ops::triggers::{self, TestEvent};
use app::ops::{self};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Serialize, schemars::JsonSchema)]
pub struct TriggerList {
    triggers: Vec<TriggerView>,
}

pub(crate) async fn list(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<TriggerList>> {
    who.may(Permission::Read, "see triggers")?;
    // 404 for a workflow that does not exist
    ops::workflows::published(&s.db, &id).await?;
    let triggers = triggers::list(&s.db, &id, ops::now_ms()).await?;
    Ok(Json(TriggerList { triggers }))
}

pub(crate) async fn create(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TriggerInput>,
) -> ApiResult<Response> {
    let p = who.may(Permission::EditWorkflows, "add triggers")?;
    let created =
        triggers::create(&s.db, &s.sealer, &Actor(p.actor), &id, input, ops::now_ms()).await?;
    let location = format!("/api/v1/triggers/{}", created.trigger.trigger.id);
    s.scheduler_changed();
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

pub(crate) async fn get_one(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<TriggerView>> {
    who.may(Permission::Read, "see triggers")?;
    Ok(Json(triggers::get(&s.db, &id, ops::now_ms()).await?))
}

pub(crate) async fn update(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TriggerInput>,
) -> ApiResult<Json<TriggerView>> {
    let p = who.may(Permission::EditWorkflows, "change triggers")?;
    let t = triggers::update(&s.db, &Actor(p.actor), &id, input, ops::now_ms()).await?;
    s.scheduler_changed();
    Ok(Json(t))
}

pub(crate) async fn remove(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = who.may(Permission::EditWorkflows, "delete triggers")?;
    triggers::delete(&s.db, &Actor(p.actor), &id, ops::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn pause(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<TriggerView>> {
    let p = who.may(Permission::EditWorkflows, "pause triggers")?;
    Ok(Json(
        triggers::set_paused(&s.db, &Actor(p.actor), &id, true, ops::now_ms()).await?,
    ))
}

pub(crate) async fn resume(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<TriggerView>> {
    let p = who.may(Permission::EditWorkflows, "resume triggers")?;
    let t = triggers::set_paused(&s.db, &Actor(p.actor), &id, false, ops::now_ms()).await?;
    s.scheduler_changed();
    Ok(Json(t))
}

pub(crate) async fn rotate(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<WithSecret>> {
    let p = who.may(Permission::EditWorkflows, "rotate webhook keys")?;
    Ok(Json(
        triggers::rotate_key(&s.db, &s.sealer, &Actor(p.actor), &id, ops::now_ms()).await?,
    ))
}

pub(crate) async fn retire(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<TriggerView>> {
    let p = who.may(Permission::EditWorkflows, "retire webhook keys")?;
    Ok(Json(
        triggers::retire_previous_key(&s.db, &Actor(p.actor), &id, ops::now_ms()).await?,
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenQuery {
    /// How long to wait for a delivery (ms, at most 120,000; default 30,000).
    #[serde(default = "listen_default")]
    wait_ms: u64,
}

fn listen_default() -> u64 {
    30_000
}

/// `POST /triggers/{id}/test-event`: the next authenticated delivery to
/// this webhook is answered as a test event and returned here (200), no
/// run started; 204 when none came in time.
pub(crate) async fn listen(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListenQuery>,
) -> ApiResult<Response> {
    who.may(Permission::EditWorkflows, "listen for test events")?;
    let wait = Duration::from_millis(q.wait_ms.min(120_000));
    Ok(
        match triggers::listen_for_test(&s.db, &s.deliveries, &id, wait).await? {
            Some(event) => Json::<TestEvent>(event).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}
