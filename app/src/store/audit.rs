//! The append-only audit trail with its SHA-256 hash chain.

use super::Result;
use crate::domain::audit::{AuditEvent, NewAuditEvent};
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

/// Appends an event inside the caller's transaction (which must hold the
/// write lock, see `Db::write`, so the chain cannot fork).
pub async fn append(conn: &mut SqliteConnection, ev: &NewAuditEvent) -> Result<i64> {
    let prev: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let prev = prev.unwrap_or_default();
    let details = ev.details.to_string();
    let hash = chain_hash(&prev, ev, &details);
    let seq = sqlx::query_scalar(
        "INSERT INTO audit_events (at, actor, action, entity, run_id, details, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
    )
    .bind(ev.at)
    .bind(&ev.actor)
    .bind(&ev.action)
    .bind(&ev.entity)
    .bind(&ev.run_id)
    .bind(&details)
    .bind(&prev)
    .bind(&hash)
    .fetch_one(conn)
    .await?;
    Ok(seq)
}

/// hash = SHA-256(prev_hash | at | actor | action | entity | run_id | details),
/// fields separated by a 0x1f unit separator so no two events hash alike.
pub fn chain_hash(prev: &str, ev: &NewAuditEvent, details: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &ev.at.to_string(),
        &ev.actor,
        &ev.action,
        &ev.entity,
        ev.run_id.as_deref().unwrap_or(""),
        details,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    entity: String,
    run_id: Option<String>,
    details: String,
}

/// Newest first, at most `limit`, optionally only for one entity.
pub async fn list(
    conn: &mut SqliteConnection,
    entity: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, at, actor, action, entity, run_id, details FROM audit_events
         WHERE (?1 IS NULL OR entity = ?1) ORDER BY seq DESC LIMIT ?2",
    )
    .bind(entity)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEvent {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            run_id: r.run_id,
            details: serde_json::from_str(&r.details)
                .unwrap_or(serde_json::Value::String(r.details)),
        })
        .collect())
}
