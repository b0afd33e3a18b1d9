//! Server functions of the Monitoring page and the workflow's alert banner
//! (the REST API has the same under `/api/v1`).

#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::domain::monitoring::Monitoring;
use crate::domain::monitoring::alerts::AlertRule;
use crate::error::AppError;
use leptos::prelude::*;

/// The figures over the last `hours` hours (by hour up to two days, else by
/// day), for the whole workflow or `step` ("" for the whole), against the
/// `baseline` ("previous" or "golden").
#[server(prefix = "/rpc", endpoint = "monitoring_figures")]
pub async fn monitoring_figures(
    workflow_id: String,
    hours: i64,
    step: String,
    baseline: String,
) -> Result<Monitoring, AppError> {
    super::require(Permission::Read, "see monitoring")?;
    use crate::domain::monitoring::{Baseline, Granularity, HOUR_MS};
    let hours = hours.clamp(1, 24 * 90);
    let hour = crate::ops::now_ms().div_euclid(HOUR_MS) * HOUR_MS;
    let to = hour + HOUR_MS;
    let q = crate::ops::monitoring::Query {
        from: to - hours * HOUR_MS,
        to,
        granularity: if hours > 48 {
            Granularity::Day
        } else {
            Granularity::Hour
        },
        step: (!step.is_empty()).then_some(step),
        baseline: if baseline == "golden" {
            Baseline::Golden
        } else {
            Baseline::Previous
        },
    };
    crate::ops::monitoring::figures(&super::db()?, &workflow_id, &q).await
}

/// The workflow's alert rules that are firing now.
#[server(prefix = "/rpc", endpoint = "firing_alerts")]
pub async fn firing_alerts(workflow_id: String) -> Result<Vec<AlertRule>, AppError> {
    super::require(Permission::Read, "see alerts")?;
    let mut conn = super::db()?
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    let rules = crate::store::alert_rules::rules(&mut conn, Some(&workflow_id)).await?;
    Ok(rules
        .into_iter()
        .filter(|r| r.firing_since.is_some())
        .collect())
}

/// Adds an alert rule; `spec` is JSON text of a `RuleSpec`.
#[server(prefix = "/rpc", endpoint = "create_alert_rule")]
pub async fn create_alert_rule(workflow_id: String, spec: String) -> Result<AlertRule, AppError> {
    let who = super::require(Permission::EditWorkflows, "write alert rules")?;
    let spec = serde_json::from_str(&spec)
        .map_err(|e| AppError::bad_request(format!("the alert rule is not valid: {e}")))?;
    let actor = crate::domain::audit::Actor(who.actor);
    crate::ops::monitoring::create_rule(
        &super::db()?,
        &actor,
        &workflow_id,
        spec,
        crate::ops::now_ms(),
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "delete_alert_rule")]
pub async fn delete_alert_rule(id: String) -> Result<(), AppError> {
    let who = super::require(Permission::EditWorkflows, "delete alert rules")?;
    let actor = crate::domain::audit::Actor(who.actor);
    crate::ops::monitoring::delete_rule(&super::db()?, &actor, &id, crate::ops::now_ms()).await
}
