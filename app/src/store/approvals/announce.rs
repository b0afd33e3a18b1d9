//! Which pending items the notifier still has to announce, and marking
//! what it announced (`notified` bits, `domain::notify::Announcement`).

use super::{ApprovalItem, get};
use crate::domain::ids::ItemId;
use crate::domain::notify::ALL_ANNOUNCED;
use crate::store::Result;
use crate::store::conn::{Conn, query, query_as};

/// Pending items of running runs that may be due an announcement: not yet
/// announced as opened, escalated and not announced as such, or with a
/// deadline before `horizon`; oldest first, with the bits already sent.
pub async fn unannounced(
    conn: &mut Conn,
    horizon: i64,
    limit: i64,
) -> Result<Vec<(ApprovalItem, i64)>> {
    let ids: Vec<(ItemId, i64)> = query_as(
        "SELECT i.id, i.notified FROM approval_items i
         WHERE i.status = 'pending' AND i.notified != $1
           AND ((i.notified & 1) = 0 OR i.escalated_to IS NOT NULL OR i.deadline_at <= $2)
           AND EXISTS (SELECT 1 FROM runs r WHERE r.id = i.run_id AND r.status = 'running')
         ORDER BY i.created_at LIMIT $3",
    )
    .bind(ALL_ANNOUNCED)
    .bind(horizon)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for (id, bits) in ids {
        if let Some(item) = get(conn, &id).await? {
            out.push((item, bits));
        }
    }
    Ok(out)
}

/// Records what was announced, if nobody else did meanwhile (`false`:
/// another process got there first, or the item was decided).
pub async fn mark_announced(conn: &mut Conn, id: &ItemId, was: i64, now_bits: i64) -> Result<bool> {
    let done = query(
        "UPDATE approval_items SET notified = $3 WHERE id = $1 AND notified = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(was)
    .bind(now_bits)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The pending items of running runs, most urgent first (for digests).
pub async fn pending(conn: &mut Conn, limit: i64) -> Result<Vec<ApprovalItem>> {
    let ids: Vec<(ItemId,)> = query_as(
        "SELECT i.id FROM approval_items i
         WHERE i.status = 'pending'
           AND EXISTS (SELECT 1 FROM runs r WHERE r.id = i.run_id AND r.status = 'running')
         ORDER BY i.deadline_at IS NULL, i.deadline_at, i.created_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for (id,) in ids {
        if let Some(item) = get(conn, &id).await? {
            out.push(item);
        }
    }
    Ok(out)
}
