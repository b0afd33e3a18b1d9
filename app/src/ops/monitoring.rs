//! Monitoring a workflow: its figures over a range (or one step's), and
//! its alert rules, checked on a timer: a rule that starts or stops firing
//! is recorded once, audited, and queued for its webhook.

use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::monitoring::alerts::{self, AlertRule, Change, RuleSpec, Window};
use crate::domain::monitoring::{self, DAY_MS, Granularity};
pub use crate::domain::monitoring::{Baseline, Monitoring};
use crate::error::{AppError, ErrorCode};
use crate::store::monitoring::Slice;
use crate::store::{Db, StoreError, alert_rules as rules, audit, monitoring as store, outbox};
use serde_json::json;

/// The longest range one answer covers.
pub const MAX_RANGE_MS: i64 = 366 * DAY_MS;

/// A request for figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub from: i64,
    pub to: i64,
    pub granularity: Granularity,
    /// One step's figures instead of the workflow's.
    pub step: Option<String>,
    pub baseline: Baseline,
}

/// The workflow's figures for `q`.
pub async fn figures(db: &Db, workflow_id: &str, q: &Query) -> Result<Monitoring, AppError> {
    let span = q.to.saturating_sub(q.from);
    if span <= 0 {
        return Err(AppError::bad_request("the range must end after it starts"));
    }
    if span > MAX_RANGE_MS {
        return Err(AppError::bad_request("the range is at most 366 days"));
    }
    if q.granularity == Granularity::Hour && span > monitoring::MAX_BUCKETS * monitoring::HOUR_MS {
        return Err(AppError::bad_request(
            "hourly figures cover at most 31 days; choose daily buckets for a longer range",
        ));
    }
    let wf = crate::ops::workflows::get(db, workflow_id, None).await?;
    if let Some(s) = &q.step
        && wf.definition.node(s).is_none()
    {
        return Err(AppError::not_found(format!(
            "the workflow's latest version has no step '{s}'"
        )));
    }
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let step = q.step.as_deref();
    let slice = Slice {
        from: q.from,
        to: q.to,
        origin: monitoring::bucket_start(q.from, q.granularity),
        size: q.granularity.ms(),
    };
    let runs = points(&mut conn, workflow_id, step, slice).await?;
    let items = store::items(&mut conn, workflow_id, step, slice).await?;
    let (baseline, label) = match q.baseline {
        Baseline::Previous => {
            let before = points(
                &mut conn,
                workflow_id,
                step,
                Slice::whole(q.from - span, q.from),
            )
            .await?;
            let c: Vec<f64> = before.iter().filter_map(|r| r.confidence).collect();
            (c, "the period before".to_string())
        }
        Baseline::Golden => (
            store::golden_confidences(&mut conn, workflow_id, step).await?,
            "the newest golden-set run".to_string(),
        ),
    };
    let figures = monitoring::figures(
        q.from,
        q.to,
        q.granularity,
        &runs,
        &items,
        &baseline,
        &label,
    );
    let rules = rules::rules(&mut conn, Some(workflow_id)).await?;
    let undelivered = outbox::failing_alerts(&mut conn, workflow_id).await?;
    Ok(Monitoring {
        workflow_id: workflow_id.to_string(),
        step: q.step.clone(),
        figures,
        rules,
        undelivered,
    })
}

/// The workflow's runs, or step `step` in them, in `slice`.
async fn points(
    conn: &mut crate::store::conn::Conn,
    workflow_id: &str,
    step: Option<&str>,
    slice: Slice,
) -> crate::store::Result<Vec<monitoring::RunPoint>> {
    match step {
        Some(s) => store::step_runs(conn, workflow_id, s, slice).await,
        None => store::runs(conn, workflow_id, slice).await,
    }
}

/// Adds an alert rule to the workflow (audited).
pub async fn create_rule(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    spec: RuleSpec,
    now: i64,
) -> Result<AlertRule, AppError> {
    let problems = spec.problems();
    if !problems.is_empty() {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("the alert rule cannot be saved: {}", problems.join("; ")),
        ));
    }
    crate::ops::workflows::get(db, workflow_id, None).await?;
    let rule = AlertRule {
        id: format!("alert_{}", uuid::Uuid::now_v7().simple()),
        workflow_id: workflow_id.to_string(),
        spec,
        created_at: now,
        created_by: actor.0.clone(),
        firing_since: None,
        last_value: None,
        checked_at: None,
    };
    let mut tx = db.write().await?;
    let count = rules::rules(&mut tx, Some(workflow_id)).await?.len();
    if count >= 50 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "a workflow has at most 50 alert rules; delete one first",
        ));
    }
    rules::insert_rule(&mut tx, &rule).await?;
    let details = json!({"rule": rule.id, "workflow_id": workflow_id, "spec": rule.spec});
    audit::append(
        &mut tx,
        &NewAuditEvent::new(
            now,
            &actor.0,
            "alert_rule.created",
            format!("alert:{}", rule.id),
            details,
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(rule)
}

/// Deletes an alert rule (audited).
pub async fn delete_rule(db: &Db, actor: &Actor, id: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let rule = rules::get_rule(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no alert rule '{id}'")))?;
    rules::delete_rule(&mut tx, id).await?;
    let details = json!({"rule": id, "workflow_id": rule.workflow_id});
    audit::append(
        &mut tx,
        &NewAuditEvent::new(
            now,
            &actor.0,
            "alert_rule.deleted",
            format!("alert:{id}"),
            details,
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// What one check of every rule did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    pub started: Vec<String>,
    pub stopped: Vec<String>,
}

/// Checks every rule at `now`; a start or stop is recorded once (of two
/// processes checking at once, one records it), audited, and queued for
/// the rule's webhook with a link under `base_url`.
pub async fn check_alerts(db: &Db, now: i64, base_url: &str) -> Result<Checked, AppError> {
    let rules = {
        let mut conn = db.acquire().await.map_err(StoreError::from)?;
        rules::rules(&mut conn, None).await?
    };
    let mut out = Checked::default();
    for rule in rules {
        let window = rule.spec.window_minutes.clamp(5, 10_080) * 60_000;
        let w = {
            let mut conn = db.acquire().await.map_err(StoreError::from)?;
            let wf = rule.workflow_id.as_str();
            let previous =
                store::runs(&mut conn, wf, Slice::whole(now - 2 * window, now - window)).await?;
            Window {
                runs: store::runs(&mut conn, wf, Slice::whole(now - window, now + 1)).await?,
                items: store::items(&mut conn, wf, None, Slice::whole(now - window, now + 1))
                    .await?,
                previous_confidences: previous.iter().filter_map(|r| r.confidence).collect(),
                oldest_open_at: store::oldest_open(&mut conn, wf).await?,
            }
        };
        let value = alerts::measure(&rule.spec, &w, now);
        let change = alerts::decide(rule.firing_since.is_some(), value, rule.spec.threshold);
        let firing_since = match change {
            Change::Started => Some(now),
            Change::Stopped => None,
            Change::Same => rule.firing_since,
        };
        let mut tx = db.write().await?;
        if !rules::record_check(
            &mut tx,
            &rule.id,
            rule.firing_since,
            firing_since,
            value,
            now,
        )
        .await?
        {
            // another process recorded this change first
            continue;
        }
        if let (Some(v), Change::Started | Change::Stopped) = (value, change) {
            let name = store::workflow_name(&mut tx, &rule.workflow_id)
                .await?
                .unwrap_or_else(|| rule.workflow_id.clone());
            let action = if change == Change::Started {
                "alert.started"
            } else {
                "alert.stopped"
            };
            let details = json!({
                "rule": rule.id, "workflow_id": rule.workflow_id, "metric": rule.spec.metric,
                "value": v, "threshold": rule.spec.threshold, "window_minutes": rule.spec.window_minutes,
            });
            audit::append(
                &mut tx,
                &NewAuditEvent::new(
                    now,
                    "system",
                    action,
                    format!("workflow:{}", rule.workflow_id),
                    details,
                ),
            )
            .await?;
            if let Some(url) = &rule.spec.webhook_url {
                let link = format!("{base_url}/workflows/{}/monitoring", rule.workflow_id);
                let body = alerts::notice(&name, &rule.spec, v, change, &link);
                let body = body.to_string();
                let message = outbox::NewMessage {
                    channel: "webhook",
                    destination: url,
                    body: &body,
                    reason: "alert",
                    workflow_id: Some(&rule.workflow_id),
                    rule_id: Some(&rule.id),
                    ..Default::default()
                };
                outbox::insert(&mut tx, &message, now).await?;
            }
            match change {
                Change::Started => out.started.push(rule.id.clone()),
                _ => out.stopped.push(rule.id.clone()),
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
    }
    Ok(out)
}
