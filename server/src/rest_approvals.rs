//! REST for the approval inbox.

use crate::rest::{ApiJson, ApiQuery, ApiResult, Who};
use crate::routes::AppState;
use app::domain::approvals::{ApprovalFilter, ApprovalItem};
use app::domain::auth::Permission;
use app::ops::{self, approvals};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

pub async fn list(
    State(s): State<AppState>,
    who: Who,
    ApiQuery(filter): ApiQuery<ApprovalFilter>,
) -> ApiResult<Json<Value>> {
    let p = who.may(Permission::Read, "see approvals")?;
    let page = approvals::list(&s.db, &p, filter, ops::now_ms()).await?;
    Ok(Json(
        json!({ "approvals": page.items, "total": page.total }),
    ))
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
    s.engine.changes().notify("approvals");
    Ok(Json(item))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    workflow_id: String,
    node_id: Option<String>,
}

/// Decisions as JSONL (labelled examples) for a workflow or one node.
pub async fn export(
    State(s): State<AppState>,
    who: Who,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    who.may(Permission::Read, "see approvals")?;
    let body = approvals::export(&s.db, &q.workflow_id, q.node_id.as_deref()).await?;
    let file = format!(
        "attachment; filename=\"decisions-{}.jsonl\"",
        q.workflow_id
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "")
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/x-ndjson".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, file),
        ],
        body,
    )
        .into_response())
}
