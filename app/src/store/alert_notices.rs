//! Notices of alerts starting and stopping on their way to webhooks: kept
//! until delivered, retried with backoff, given up after a number of tries.

use super::Result;
use crate::store::conn::{Conn, query, query_as};

/// A notice to deliver.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub id: String,
    pub rule_id: String,
    pub url: String,
    pub body: String,
    pub attempts: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut Conn,
    id: &str,
    rule_id: &str,
    workflow_id: &str,
    url: &str,
    body: &serde_json::Value,
    now: i64,
) -> Result<()> {
    query(
        "INSERT INTO alert_notices (id, rule_id, workflow_id, url, body, created_at, next_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id)
    .bind(rule_id)
    .bind(workflow_id)
    .bind(url)
    .bind(body.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes up to `limit` due notices for this sender: each is pushed to
/// `lease_until` first, so another process does not send it meanwhile.
pub async fn take_due(
    conn: &mut Conn,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Notice>> {
    let rows: Vec<(String, String, String, String, i64)> = query_as(
        "SELECT id, rule_id, url, body, attempts FROM alert_notices
         WHERE delivered_at IS NULL AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut taken = Vec::new();
    for (id, rule_id, url, body, attempts) in rows {
        let done = query(
            "UPDATE alert_notices SET next_at = $2 WHERE id = $1 AND delivered_at IS NULL AND next_at <= $3",
        )
        .bind(&id)
        .bind(lease_until)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            taken.push(Notice {
                id,
                rule_id,
                url,
                body,
                attempts,
            });
        }
    }
    Ok(taken)
}

pub async fn delivered(conn: &mut Conn, id: &str, now: i64) -> Result<()> {
    query("UPDATE alert_notices SET delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// A failed delivery: tried again at `next_at`, or never (`None`) once given up.
pub async fn failed(conn: &mut Conn, id: &str, error: &str, next_at: Option<i64>) -> Result<()> {
    query(
        "UPDATE alert_notices SET attempts = attempts + 1, last_error = $2,
             next_at = COALESCE($3, next_at), delivered_at = CASE WHEN $3 IS NULL THEN -1 ELSE NULL END
         WHERE id = $1",
    )
    .bind(id)
    .bind(crate::store::runs::capped_error(error).as_ref())
    .bind(next_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The undelivered notices of a workflow's rules: (rule, attempts, last error).
pub async fn failing(
    conn: &mut Conn,
    workflow_id: &str,
) -> Result<Vec<(String, i64, Option<String>)>> {
    Ok(query_as(
        "SELECT rule_id, attempts, last_error FROM alert_notices
         WHERE workflow_id = $1 AND (delivered_at IS NULL OR delivered_at = -1) AND attempts > 0
         ORDER BY created_at DESC LIMIT 20",
    )
    .bind(workflow_id)
    .fetch_all(conn)
    .await?)
}
