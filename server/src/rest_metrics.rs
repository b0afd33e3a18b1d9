//! `GET /metrics` and the HTTP request metrics (see `metrics`).

use crate::metrics::{self, Access, Reason, Request, Route};
use crate::rest::{ApiError, Who};
use crate::routes::AppState;
use app::domain::auth::Permission;
use app::error::AppError;
use axum::extract::{MatchedPath, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The exposition, with the database's share read now.
pub(crate) async fn scrape(State(s): State<AppState>, who: Who) -> Response {
    match s.metrics {
        Access::Off => {
            let off = "metrics are off on this server (start it with --metrics token or public)";
            return ApiError(AppError::not_found(off)).into_response();
        }
        Access::Token => {
            if let Err(e) = who.may(Permission::Read, "read metrics") {
                return e.into_response();
            }
        }
        Access::Public => {}
    }
    if let Err(e) = refresh(&s.db).await {
        // the counters are still worth having
        tracing::warn!(error = %e, "metrics: could not read the queue and the inbox");
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics::get().encode(),
    )
        .into_response()
}

async fn refresh(db: &app::store::Db) -> Result<(), app::store::StoreError> {
    let now = app::ops::now_ms();
    let mut conn = db.acquire().await?;
    let (due, oldest) = app::store::gauges::due_steps(&mut conn, now).await?;
    let items = app::store::gauges::waiting_items(&mut conn).await?;
    let m = metrics::get();
    m.ready_steps.set(due);
    // the gate's totals so far, as counters
    let turns = app::store::db::gate_turns();
    m.db_writes
        .inc_by(turns.writes.saturating_sub(m.db_writes.get()));
    m.db_write_waited
        .inc_by((turns.waited_s - m.db_write_waited.get()).max(0.0));
    m.db_write_held
        .inc_by((turns.held_s - m.db_write_held.get()).max(0.0));
    m.oldest_ready_seconds
        .set(oldest.map_or(0.0, |t| metrics::secs(now - t)));
    for reason in ["approval", "confidence"] {
        let n = items
            .iter()
            .find(|(r, _)| r == reason)
            .map_or(0, |(_, n)| *n);
        m.waiting_items
            .get_or_create(&Reason {
                reason: reason.into(),
            })
            .set(n);
    }
    Ok(())
}

/// Counts and times every request that matched a route, by its template.
pub(crate) async fn track(req: axum::extract::Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let m = metrics::get();
    m.http_requests
        .get_or_create(&Request {
            method: method.clone(),
            route: route.clone(),
            status: res.status().as_u16().to_string(),
        })
        .inc();
    m.http_seconds
        .get_or_create(&Route { method, route })
        .observe(started.elapsed().as_secs_f64());
    res
}
