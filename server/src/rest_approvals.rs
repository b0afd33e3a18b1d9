//! REST for the approval inbox.

use crate::rest::{ApiJson, ApiResult, Who};
use crate::routes::AppState;
use app::domain::approvals::ApprovalItem;
use app::domain::auth::Permission;
use app::ops::{self, approvals};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default = "pending")]
    status: String,
    /// Every pending item, not only those the caller may decide.
    #[serde(default)]
    all: bool,
}

fn pending() -> String {
    "pending".into()
}

pub async fn list(
    State(s): State<AppState>,
    who: Who,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let p = who.may(Permission::Read, "see approvals")?;
    let items = approvals::list(&s.db, &p, &q.status, q.all).await?;
    Ok(Json(json!({ "approvals": items })))
}

pub async fn get(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    who.may(Permission::Read, "see approvals")?;
    let (item, decisions) = approvals::get(&s.db, &id).await?;
    Ok(Json(json!({ "item": item, "decisions": decisions })))
}

pub async fn decide(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<approvals::DecisionInput>,
) -> ApiResult<Json<ApprovalItem>> {
    let p = who.may(Permission::DecideApprovals, "decide approvals")?;
    let item = approvals::decide(&s.db, &p, &id, body, ops::now_ms()).await?;
    s.engine.wakeup().wake();
    Ok(Json(item))
}
