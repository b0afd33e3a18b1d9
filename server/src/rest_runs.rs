//! REST API v1: runs.

use crate::rest::{ApiJson, ApiResult, optional_json};
use crate::routes::AppState;
use app::domain::audit::Actor;
use app::domain::records::{AttemptRecord, RunDetail};
use app::ops::{self, runs};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    #[serde(default)]
    input: Value,
    /// Run this version instead of the latest.
    #[serde(default)]
    version: Option<i64>,
}

pub async fn start_run(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StartBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let run_id = runs::start(
        &s.db,
        &Actor::anonymous(),
        &id,
        body.version,
        &body.input,
        None,
        ops::now_ms(),
    )
    .await?;
    s.engine.wake();
    Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": run_id }))))
}

pub async fn get_run(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RunDetail>> {
    Ok(Json(runs::get(&s.db, &id).await?))
}

pub async fn get_attempts(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AttemptRecord>>> {
    Ok(Json(runs::attempts(&s.db, &id).await?))
}

pub async fn cancel_run(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    runs::cancel(&s.db, &Actor::anonymous(), &id, ops::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RerunBody {
    /// Run on the workflow's latest version instead of the original one.
    #[serde(default)]
    latest: bool,
}

pub async fn rerun(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let latest = optional_json::<RerunBody>(&body)?.latest;
    let run_id = runs::rerun(&s.db, &Actor::anonymous(), &id, latest, ops::now_ms()).await?;
    s.engine.wake();
    Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": run_id }))))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    /// Replaces the context the step sees (`{input, steps}`).
    #[serde(default)]
    input: Option<Value>,
}

pub async fn retry_step(
    State(s): State<AppState>,
    Path((id, node_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let input = optional_json::<RetryBody>(&body)?.input;
    runs::retry_step(
        &s.db,
        &Actor::anonymous(),
        &id,
        &node_id,
        input.as_ref(),
        ops::now_ms(),
    )
    .await?;
    s.engine.wake();
    Ok(StatusCode::ACCEPTED)
}
