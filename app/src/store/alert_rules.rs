//! Alert rules as stored, and how each stands (firing since when, the
//! value at the last check).

use super::Result;
use crate::domain::monitoring::alerts::{AlertRule, Metric, RuleSpec};
use crate::store::conn::{Conn, query, query_as};

type RuleRow = (
    String,
    String,
    String,
    f64,
    i64,
    i64,
    Option<String>,
    i64,
    String,
    Option<i64>,
    Option<f64>,
    Option<i64>,
);

const RULE_COLUMNS: &str = "id, workflow_id, metric, threshold, window_minutes, min_runs, webhook_url, created_at, created_by, firing_since, last_value, checked_at";

fn rule(r: RuleRow) -> Result<AlertRule> {
    let metric = Metric::parse(&r.2)
        .ok_or_else(|| super::StoreError::Corrupt(format!("unknown alert metric '{}'", r.2)))?;
    Ok(AlertRule {
        id: r.0,
        workflow_id: r.1,
        spec: RuleSpec {
            metric,
            threshold: r.3,
            window_minutes: r.4,
            min_runs: r.5,
            webhook_url: r.6,
        },
        created_at: r.7,
        created_by: r.8,
        firing_since: r.9,
        last_value: r.10,
        checked_at: r.11,
    })
}

/// The workflow's rules (every workflow's with `None`), oldest first.
pub async fn rules(conn: &mut Conn, workflow_id: Option<&str>) -> Result<Vec<AlertRule>> {
    let rows: Vec<RuleRow> = query_as(format!(
        "SELECT {RULE_COLUMNS} FROM alert_rules WHERE ($1 IS NULL OR workflow_id = $1)
         ORDER BY created_at, id"
    ))
    .bind(workflow_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(rule).collect()
}

pub async fn get_rule(conn: &mut Conn, id: &str) -> Result<Option<AlertRule>> {
    let row: Option<RuleRow> = query_as(format!(
        "SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(rule).transpose()
}

pub async fn insert_rule(conn: &mut Conn, r: &AlertRule) -> Result<()> {
    query(
        "INSERT INTO alert_rules (id, workflow_id, metric, threshold, window_minutes, min_runs, webhook_url, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&r.id)
    .bind(&r.workflow_id)
    .bind(r.spec.metric.as_str())
    .bind(r.spec.threshold)
    .bind(r.spec.window_minutes)
    .bind(r.spec.min_runs)
    .bind(&r.spec.webhook_url)
    .bind(r.created_at)
    .bind(&r.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_rule(conn: &mut Conn, id: &str) -> Result<()> {
    let done = query("DELETE FROM alert_rules WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    super::found(done.rows_affected())
}

/// Records a check. `firing` moves only from what the checker saw
/// (`was_firing`), so of two processes checking at once one records a
/// start or stop; returns whether this one did (always true when
/// nothing changed).
pub async fn record_check(
    conn: &mut Conn,
    id: &str,
    was_firing: Option<i64>,
    firing_since: Option<i64>,
    value: Option<f64>,
    now: i64,
) -> Result<bool> {
    let done = query(
        "UPDATE alert_rules SET firing_since = $2, last_value = $3, checked_at = $4
         WHERE id = $1 AND firing_since IS NOT DISTINCT FROM $5",
    )
    .bind(id)
    .bind(firing_since)
    .bind(value)
    .bind(now)
    .bind(was_firing)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
