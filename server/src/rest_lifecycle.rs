//! REST API v1: how long a workflow's runs are kept.

use crate::rest::{ApiJson, ApiResult, Who};
use crate::routes::AppState;
use app::domain::audit::Actor;
use app::domain::auth::Permission;
use app::ops;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

/// How many days a workflow's finished runs are kept.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionBody {
    /// 1 to 36,500 days; null for the instance default
    /// (`--retention-days`, by default for ever).
    pub days: Option<i64>,
}

/// Sets it. Administrators only: it makes the server delete runs.
pub(crate) async fn set_retention(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RetentionBody>,
) -> ApiResult<Json<RetentionBody>> {
    let p = who.may(Permission::Administer, "set how long runs are kept")?;
    ops::workflows::set_retention(&s.db, &Actor(p.actor), &id, body.days, ops::now_ms()).await?;
    Ok(Json(body))
}
