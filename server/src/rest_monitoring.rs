//! REST API v1: a workflow's monitoring figures and its alert rules.

use crate::rest::{ApiJson, ApiQuery, ApiResult, Who};
use crate::routes::AppState;
use app::domain::audit::Actor;
use app::domain::auth::Permission;
use app::domain::monitoring::alerts::{AlertRule, RuleSpec};
use app::domain::monitoring::{DAY_MS, Granularity};
use app::ops::monitoring::{self, Baseline, Monitoring, Query};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringQuery {
    /// Start of the range (ms since epoch); 7 days before `to` by default.
    #[serde(default)]
    from: Option<i64>,
    /// End of the range (ms since epoch, exclusive); now by default.
    #[serde(default)]
    to: Option<i64>,
    /// `hour` or `day`; by day for ranges over two days, else by hour.
    #[serde(default)]
    granularity: Option<Granularity>,
    /// One step's figures instead of the workflow's.
    #[serde(default)]
    step: Option<String>,
    /// What confidence is compared with: `previous` (the period before,
    /// the default) or `golden` (the newest golden-set run).
    #[serde(default)]
    baseline: Option<Baseline>,
}

/// Turns the query into a range, with the defaults filled in.
pub fn query(q: MonitoringQuery, now: i64) -> Query {
    let to = q.to.unwrap_or(now);
    let from = q.from.unwrap_or(to.saturating_sub(7 * DAY_MS));
    let granularity = q
        .granularity
        .unwrap_or(if to.saturating_sub(from) > 2 * DAY_MS {
            Granularity::Day
        } else {
            Granularity::Hour
        });
    Query {
        from,
        to,
        granularity,
        step: q.step.filter(|s| !s.is_empty()),
        baseline: q.baseline.unwrap_or_default(),
    }
}

pub(crate) async fn figures(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MonitoringQuery>,
) -> ApiResult<Json<Monitoring>> {
    who.may(Permission::Read, "see monitoring")?;
    let q = query(q, app::ops::now_ms());
    Ok(Json(monitoring::figures(&s.db, &id, &q).await?))
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct RuleList {
    alert_rules: Vec<AlertRule>,
}

pub(crate) async fn list_rules(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<RuleList>> {
    who.may(Permission::Read, "see alert rules")?;
    app::ops::workflows::get(&s.db, &id, None).await?;
    let mut conn = s.db.acquire().await.map_err(app::store::StoreError::from)?;
    let alert_rules = app::store::alert_rules::rules(&mut conn, Some(&id))
        .await
        .map_err(app::error::AppError::from)?;
    Ok(Json(RuleList { alert_rules }))
}

pub(crate) async fn create_rule(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<RuleSpec>,
) -> ApiResult<(StatusCode, Json<AlertRule>)> {
    let p = who.may(Permission::EditWorkflows, "write alert rules")?;
    let rule =
        monitoring::create_rule(&s.db, &Actor(p.actor), &id, spec, app::ops::now_ms()).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

pub(crate) async fn delete_rule(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = who.may(Permission::EditWorkflows, "delete alert rules")?;
    monitoring::delete_rule(&s.db, &Actor(p.actor), &id, app::ops::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
