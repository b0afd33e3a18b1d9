//! Who waits for a webhook's next delivery as a test event, and the event
//! once a process caught it: in the database, so a listener on one process
//! hears of a delivery that reached another.

use super::Result;
use crate::domain::ids::TriggerId;
use crate::store::conn::{Conn, query, query_scalar};

/// Starts listener `id` for `trigger_id` until `until` (ms), and forgets
/// listeners whose time ran out before `now` (one that went away without
/// saying so).
pub async fn add(
    conn: &mut Conn,
    id: &str,
    trigger_id: &TriggerId,
    until: i64,
    now: i64,
) -> Result<()> {
    query("DELETE FROM trigger_listens WHERE until_at < $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    query("INSERT INTO trigger_listens (id, trigger_id, until_at) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(trigger_id)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether anyone still waits for the next delivery to `trigger_id`.
pub async fn listening(conn: &mut Conn, trigger_id: &TriggerId, now: i64) -> Result<bool> {
    Ok(query_scalar(
        "SELECT EXISTS (SELECT 1 FROM trigger_listens
                        WHERE trigger_id = $1 AND until_at >= $2 AND event IS NULL)",
    )
    .bind(trigger_id)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Hands `event` (JSON) to every listener still waiting for `trigger_id`;
/// how many there were (none: the delivery starts a run).
pub async fn catch(conn: &mut Conn, trigger_id: &TriggerId, now: i64, event: &str) -> Result<u64> {
    Ok(query(
        "UPDATE trigger_listens SET event = $1
         WHERE trigger_id = $2 AND until_at >= $3 AND event IS NULL",
    )
    .bind(event)
    .bind(trigger_id)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The event listener `id` caught, if any yet.
pub async fn caught(conn: &mut Conn, id: &str) -> Result<Option<String>> {
    Ok(
        query_scalar::<Option<String>>("SELECT event FROM trigger_listens WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}

/// Ends listener `id`, with the event it caught meanwhile, if any.
pub async fn end(conn: &mut Conn, id: &str) -> Result<Option<String>> {
    Ok(
        query_scalar::<Option<String>>("DELETE FROM trigger_listens WHERE id = $1 RETURNING event")
            .bind(id)
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}
