//! REST for the approval inbox.

use crate::rest::{ApiJson, ApiQuery, ApiResult, Who};
use crate::routes::AppState;
use app::domain::approvals::{ApprovalFilter, ApprovalItem, Decision};
use app::domain::auth::Permission;
use app::ops::{self, approvals};
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

/// A page of the caller's inbox (`?status`, `?limit`...) and how many match.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ApprovalList {
    pub approvals: Vec<ApprovalItem>,
    pub total: i64,
}

/// One item with every decision taken on it.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ApprovalDetail {
    pub item: ApprovalItem,
    pub decisions: Vec<Decision>,
}

pub async fn list(
    State(s): State<AppState>,
    who: Who,
    ApiQuery(filter): ApiQuery<ApprovalFilter>,
) -> ApiResult<Json<ApprovalList>> {
    let p = who.may(Permission::Read, "see approvals")?;
    let page = approvals::list(&s.db, &p, filter, ops::now_ms()).await?;
    Ok(Json(ApprovalList {
        approvals: page.items,
        total: page.total,
    }))
}

pub async fn get(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<ApprovalDetail>> {
    who.may(Permission::Read, "see approvals")?;
    let (item, decisions) = approvals::get(&s.db, &id).await?;
    Ok(Json(ApprovalDetail { item, decisions }))
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

#[derive(Deserialize, schemars::JsonSchema)]
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
    // a page at a time as it is read, oldest decision first
    let (db, wf, node) = (s.db.clone(), q.workflow_id.clone(), q.node_id.clone());
    let body = crate::streaming::paged_body(None, move |after| {
        let (db, wf, node) = (db.clone(), wf.clone(), node.clone());
        async move { approvals::export_page(&db, &wf, node.as_deref(), after, 500).await }
    });
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
