//! Every message on its way out (emails and webhooks; approval
//! notifications, digests and alert notices): kept until delivered, retried
//! with backoff, given up after a number of tries, and listed for admins.

use super::Result;
use crate::domain::notify::OutboxEntry;
use crate::store::conn::{Conn, query, query_as};

/// A message to queue. `channel` is `email` (body: plain text) or
/// `webhook` (body: JSON sent as is).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewMessage<'a> {
    pub channel: &'a str,
    pub destination: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub reason: &'a str,
    pub workflow_id: Option<&'a str>,
    pub rule_id: Option<&'a str>,
    pub item_id: Option<&'a str>,
}

/// A message taken for sending.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Outgoing {
    pub id: String,
    pub channel: String,
    pub destination: String,
    pub subject: String,
    pub body: String,
    pub reason: String,
    pub attempts: i64,
}

pub async fn insert(conn: &mut Conn, m: &NewMessage<'_>, now: i64) -> Result<String> {
    let id = format!("ntf_{}", uuid::Uuid::now_v7().simple());
    query(
        "INSERT INTO notifications (id, channel, destination, subject, body, reason, workflow_id, rule_id, item_id, created_at, next_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(m.channel)
    .bind(m.destination)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.reason)
    .bind(m.workflow_id)
    .bind(m.rule_id)
    .bind(m.item_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Takes up to `limit` due messages for this sender: each is pushed to
/// `lease_until` first, so another process does not send it meanwhile.
pub async fn take_due(
    conn: &mut Conn,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Outgoing>> {
    let rows: Vec<Outgoing> = query_as(
        "SELECT id, channel, destination, subject, body, reason, attempts FROM notifications
         WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut taken = Vec::new();
    for m in rows {
        let done = query(
            "UPDATE notifications SET next_at = $2
             WHERE id = $1 AND delivered_at IS NULL AND given_up_at IS NULL AND next_at <= $3",
        )
        .bind(&m.id)
        .bind(lease_until)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            taken.push(m);
        }
    }
    Ok(taken)
}

pub async fn delivered(conn: &mut Conn, id: &str, now: i64) -> Result<()> {
    query("UPDATE notifications SET delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// A failed delivery: tried again at `next_at`, or given up (`None`).
pub async fn failed(
    conn: &mut Conn,
    id: &str,
    error: &str,
    next_at: Option<i64>,
    now: i64,
) -> Result<()> {
    query(
        "UPDATE notifications SET attempts = attempts + 1, last_error = $2,
             next_at = COALESCE($3, next_at), given_up_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END
         WHERE id = $1",
    )
    .bind(id)
    .bind(crate::store::runs::capped_error(error).as_ref())
    .bind(next_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The undelivered alert notices of a workflow's rules: (rule, attempts, last error).
pub async fn failing_alerts(
    conn: &mut Conn,
    workflow_id: &str,
) -> Result<Vec<(String, i64, Option<String>)>> {
    Ok(query_as(
        "SELECT rule_id, attempts, last_error FROM notifications
         WHERE workflow_id = $1 AND rule_id IS NOT NULL AND delivered_at IS NULL AND attempts > 0
         ORDER BY created_at DESC LIMIT 20",
    )
    .bind(workflow_id)
    .fetch_all(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    channel: String,
    destination: String,
    subject: String,
    reason: String,
    workflow_id: Option<String>,
    item_id: Option<String>,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    delivered_at: Option<i64>,
    given_up_at: Option<i64>,
}

/// The newest messages, or only those not delivered (still tried or given
/// up), newest first.
pub async fn recent(
    conn: &mut Conn,
    undelivered_only: bool,
    limit: i64,
) -> Result<Vec<OutboxEntry>> {
    let rows: Vec<Row> = query_as(
        "SELECT id, channel, destination, subject, reason, workflow_id, item_id, attempts, last_error,
                created_at, delivered_at, given_up_at
         FROM notifications WHERE (NOT $1 OR delivered_at IS NULL)
         ORDER BY created_at DESC, id LIMIT $2",
    )
    .bind(undelivered_only)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| OutboxEntry {
            // a webhook's address may carry a token in its path: only its host is shown
            destination: if r.channel == "webhook" {
                r.destination.split('/').nth(2).unwrap_or("").to_string()
            } else {
                r.destination
            },
            id: r.id,
            channel: r.channel,
            subject: r.subject,
            reason: r.reason,
            workflow_id: r.workflow_id,
            item_id: r.item_id,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
            given_up: r.given_up_at.is_some(),
        })
        .collect())
}

/// Deletes delivered and given-up messages created before `before`, at
/// most `limit` of them; returns how many went.
pub async fn prune(conn: &mut Conn, before: i64, limit: i64) -> Result<u64> {
    let done = query(
        "DELETE FROM notifications WHERE id IN (
             SELECT id FROM notifications
             WHERE created_at < $1 AND (delivered_at IS NOT NULL OR given_up_at IS NOT NULL)
             ORDER BY created_at LIMIT $2)",
    )
    .bind(before)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
