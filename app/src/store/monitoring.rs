//! What the monitoring page and alert rules read: a workflow's runs (or
//! one step's) and items over a range, its oldest open item, and the alert
//! rules with their notices. Test runs, golden runs, chaos runs and item
//! runs of a For each are left out.

use super::Result;
use crate::domain::monitoring::alerts::{AlertRule, Metric, RuleSpec};
use crate::domain::monitoring::{ItemOutcome, ItemPoint, RunPoint};
use crate::domain::run::RunStatus;
use crate::store::conn::{Conn, query, query_as, query_scalar};

/// The runs counted by monitoring (the condition of the `runs_monitoring` index).
const MONITORED: &str =
    "r.item_index IS NULL AND r.chaos IS NULL AND r.version > 0 AND r.origin <> 'golden'";

/// A run's confidence where a confidence gate stopped it: what the step
/// reported there (the lowest, if several), before any person decided.
const GATED: &str = "(SELECT MIN(a.confidence) FROM approval_items i
      JOIN step_attempts a ON a.run_id = i.run_id AND a.node_id = i.node_id AND a.outcome = 'parked'
      WHERE i.run_id = r.id AND i.reason = 'confidence' AND i.superseded_at IS NULL)";

fn status(s: &str) -> RunStatus {
    match s {
        "succeeded" => RunStatus::Succeeded,
        "failed" => RunStatus::Failed,
        "cancelled" | "skipped" => RunStatus::Cancelled,
        _ => RunStatus::Running,
    }
}

/// The workflow's runs started in [from, to), each with its confidence:
/// where a gate stopped it, what the step reported there; else the
/// cumulative confidence it ended with.
pub async fn runs(conn: &mut Conn, workflow_id: &str, from: i64, to: i64) -> Result<Vec<RunPoint>> {
    let rows: Vec<(i64, String, Option<i64>, Option<f64>)> = query_as(format!(
        "SELECT r.created_at, r.status, r.finished_at, COALESCE({GATED}, r.confidence) FROM runs r
         WHERE r.workflow_id = $1 AND r.created_at >= $2 AND r.created_at < $3 AND {MONITORED}"
    ))
    .bind(workflow_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, s, end, confidence)| RunPoint {
            at,
            status: status(&s),
            ms: end.map(|e| e - at),
            confidence,
        })
        .collect())
}

/// Step `node_id` in the workflow's runs started in [from, to), where it
/// ran (skipped and never reached steps are left out), with the confidence
/// it first reported (before any person decided).
pub async fn step_runs(
    conn: &mut Conn,
    workflow_id: &str,
    node_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<RunPoint>> {
    let rows: Vec<(i64, String, Option<i64>, Option<i64>, Option<f64>)> = query_as(format!(
        "SELECT r.created_at, s.status, s.started_at, s.finished_at,
                COALESCE((SELECT a.confidence FROM step_attempts a
                          WHERE a.run_id = r.id AND a.node_id = s.node_id AND a.confidence IS NOT NULL
                          ORDER BY a.attempt LIMIT 1), s.confidence)
         FROM runs r JOIN steps s ON s.run_id = r.id AND s.node_id = $4
         WHERE r.workflow_id = $1 AND r.created_at >= $2 AND r.created_at < $3 AND {MONITORED}
           AND s.status NOT IN ('skipped', 'pending')"
    ))
    .bind(workflow_id)
    .bind(from)
    .bind(to)
    .bind(node_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, s, began, end, confidence)| RunPoint {
            at,
            status: status(&s),
            ms: began.zip(end).map(|(b, e)| e - b),
            confidence,
        })
        .collect())
}

/// The workflow's items (of `node_id` only, when given) opened in [from, to).
pub async fn items(
    conn: &mut Conn,
    workflow_id: &str,
    node_id: Option<&str>,
    from: i64,
    to: i64,
) -> Result<Vec<ItemPoint>> {
    let rows: Vec<(i64, String, String, bool)> = query_as(format!(
        "SELECT i.created_at, i.reason, i.status,
                EXISTS (SELECT 1 FROM approval_decisions d WHERE d.item_id = i.id AND d.output IS NOT NULL)
         FROM approval_items i JOIN runs r ON r.id = i.run_id
         WHERE i.workflow_id = $1 AND i.created_at >= $2 AND i.created_at < $3
           AND i.superseded_at IS NULL AND ($4 IS NULL OR i.node_id = $4) AND {MONITORED}"
    ))
    .bind(workflow_id)
    .bind(from)
    .bind(to)
    .bind(node_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, reason, st, edited)| ItemPoint {
            at,
            gate: reason == "confidence",
            outcome: match (st.as_str(), edited) {
                ("approved", true) => ItemOutcome::Edited,
                ("approved", false) => ItemOutcome::Approved,
                ("rejected", _) => ItemOutcome::Rejected,
                ("pending", _) => ItemOutcome::Open,
                _ => ItemOutcome::Cancelled,
            },
        })
        .collect())
}

/// The confidences of the runs (or of step `node_id` in them) of the
/// workflow's newest golden-set run without faults.
pub async fn golden_confidences(
    conn: &mut Conn,
    workflow_id: &str,
    node_id: Option<&str>,
) -> Result<Vec<f64>> {
    let suite = "SELECT id FROM test_suites WHERE workflow_id = $1 AND chaos IS NULL
                 ORDER BY started_at DESC, id DESC LIMIT 1";
    let sql = match node_id {
        None => format!(
            "SELECT r.confidence FROM test_suite_cases c JOIN runs r ON r.id = c.run_id
             WHERE c.suite_id = ({suite}) AND r.confidence IS NOT NULL AND CAST($2 AS TEXT) IS NULL"
        ),
        Some(_) => format!(
            "SELECT s.confidence FROM test_suite_cases c JOIN steps s ON s.run_id = c.run_id AND s.node_id = $2
             WHERE c.suite_id = ({suite}) AND s.confidence IS NOT NULL"
        ),
    };
    Ok(query_scalar(sql)
        .bind(workflow_id)
        .bind(node_id)
        .fetch_all(conn)
        .await?)
}

/// The workflow's name, if it exists.
pub async fn workflow_name(conn: &mut Conn, workflow_id: &str) -> Result<Option<String>> {
    Ok(query_scalar("SELECT name FROM workflows WHERE id = $1")
        .bind(workflow_id)
        .fetch_optional(conn)
        .await?)
}

/// When the workflow's oldest open item was opened.
pub async fn oldest_open(conn: &mut Conn, workflow_id: &str) -> Result<Option<i64>> {
    Ok(query_scalar(format!(
        "SELECT MIN(i.created_at) FROM approval_items i JOIN runs r ON r.id = i.run_id
         WHERE i.workflow_id = $1 AND i.status = 'pending' AND i.superseded_at IS NULL AND {MONITORED}"
    ))
    .bind(workflow_id)
    .fetch_one(conn)
    .await?)
}

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
