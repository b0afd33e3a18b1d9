//! REST API v1: model connections (what LLM steps call, by name).

use crate::rest::{ApiJson, ApiResult, Who};
use crate::routes::AppState;
use app::domain::auth::Permission;
use app::domain::llm::ModelConnection;
use app::ops;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

#[derive(Serialize, schemars::JsonSchema)]
pub struct ConnectionList {
    connections: Vec<ModelConnection>,
}

pub(crate) async fn list(State(s): State<AppState>, who: Who) -> ApiResult<Json<ConnectionList>> {
    who.may(Permission::EditWorkflows, "see model connections")?;
    Ok(Json(ConnectionList {
        connections: ops::models::list(&s.db).await?,
    }))
}

/// Creates or replaces the connection named in the path (the body's name,
/// if any, must be the same).
pub(crate) async fn put(
    State(s): State<AppState>,
    who: Who,
    Path(name): Path<String>,
    ApiJson(c): ApiJson<ModelConnection>,
) -> ApiResult<Json<ModelConnection>> {
    let p = who.may(Permission::Administer, "manage model connections")?;
    if c.name != name {
        return Err(app::error::AppError::bad_request(format!(
            "the body names connection '{}', the path '{name}'; they must be the same",
            c.name
        ))
        .into());
    }
    ops::models::save(&s.db, &p.actor, c, ops::now_ms()).await?;
    let saved = ops::models::get(&s.db, &name).await?.ok_or_else(|| {
        app::error::AppError::not_found(format!("no model connection named '{name}'"))
    })?;
    Ok(Json(saved))
}

pub(crate) async fn remove(
    State(s): State<AppState>,
    who: Who,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let p = who.may(Permission::Administer, "manage model connections")?;
    ops::models::delete(&s.db, &p.actor, &name, ops::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
