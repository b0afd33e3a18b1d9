//! The audit trail over REST: filtered, as JSON, CSV or JSONL.

use crate::rest::{ApiQuery, ApiResult, Who};
use crate::routes::AppState;
use app::domain::audit::{AuditEvent, AuditFilter};
use app::domain::auth::Permission;
use app::error::AppError;
use app::store::StoreError;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The newest 200 events matching the filter (`format=json`).
#[derive(Serialize, schemars::JsonSchema)]
pub struct AuditList {
    pub events: Vec<AuditEvent>,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    entity: Option<String>,
    run_id: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    /// `json` (default, newest 200), `csv` or `jsonl` (everything matching).
    #[serde(default)]
    format: Option<String>,
}

/// One CSV field: quoted when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(e: &AuditEvent) -> String {
    [
        e.seq.to_string(),
        e.at.to_string(),
        csv_field(&e.actor),
        csv_field(&e.action),
        csv_field(&e.entity),
        csv_field(e.run_id.as_deref().unwrap_or("")),
        csv_field(&e.details.to_string()),
    ]
    .join(",")
}

pub async fn list(
    State(s): State<AppState>,
    who: Who,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    who.may(Permission::Read, "see the audit trail")?;
    let mut filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        entity: q.entity,
        run_id: q.run_id,
        from: q.from,
        to: q.to,
        before_seq: None,
    }
    .cleaned();
    let format = q.format.as_deref().unwrap_or("json");
    if format == "json" {
        let mut conn = s.db.acquire().await.map_err(StoreError::from)?;
        let events = app::store::audit::search(&mut conn, &filter, 200).await?;
        return Ok(axum::Json(AuditList { events }).into_response());
    }
    let csv = match format {
        "csv" => true,
        "jsonl" => false,
        _ => return Err(AppError::bad_request("format is json, csv or jsonl").into()),
    };
    // everything matching, newest first, a page at a time as it is read
    filter.before_seq = None;
    let db = s.db.clone();
    let body = crate::streaming::paged_body((filter, true), move |(mut filter, first)| {
        let db = db.clone();
        async move {
            let mut out = String::new();
            if first && csv {
                out.push_str("seq,at,actor,action,entity,run_id,details\n");
            }
            let page = {
                let mut conn = db.acquire().await.map_err(StoreError::from)?;
                app::store::audit::search(&mut conn, &filter, EXPORT_PAGE).await?
            };
            for e in &page {
                if csv {
                    out.push_str(&csv_line(e));
                } else {
                    out.push_str(&serde_json::to_string(e).unwrap_or_default());
                }
                out.push('\n');
            }
            let next = match page.last() {
                Some(last) if page.len() as i64 == EXPORT_PAGE => {
                    filter.before_seq = Some(last.seq);
                    Some((filter, false))
                }
                _ => None,
            };
            Ok((out, next))
        }
    });
    let (mime, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"audit.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Events read per page of an export.
const EXPORT_PAGE: i64 = 1000;

#[cfg(test)]
mod tests {
    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(super::csv_field("plain"), "plain");
        assert_eq!(super::csv_field("a,b"), "\"a,b\"");
        assert_eq!(super::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
