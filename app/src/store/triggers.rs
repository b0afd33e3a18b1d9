//! Triggers (their events are in `trigger_events`).

pub use super::trigger_events::*;

use super::{Result, StoreError};
use crate::domain::ids::TriggerId;
use crate::domain::triggers::{Trigger, TriggerSpec};

pub const PATH_TAKEN: &str = "another webhook already uses this path; choose another";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    workflow_id: String,
    name: String,
    spec: String,
    paused: bool,
    paused_reason: Option<String>,
    rotating: bool,
    created_at: i64,
    created_by: String,
    updated_at: i64,
}

const COLUMNS: &str = "t.id, t.workflow_id, t.name, t.spec, t.paused, t.paused_reason,
     t.previous_secret IS NOT NULL AS rotating, t.created_at, t.created_by, t.updated_at";

fn trigger(r: Row) -> Result<Trigger> {
    let spec: TriggerSpec = serde_json::from_str(&r.spec)
        .map_err(|e| StoreError::Corrupt(format!("trigger {}: {e}", r.id)))?;
    Ok(Trigger {
        id: TriggerId::from_stored(r.id),
        workflow_id: r.workflow_id,
        name: r.name,
        spec,
        paused: r.paused,
        paused_reason: r.paused_reason,
        rotating: r.rotating,
        created_at: r.created_at,
        created_by: r.created_by,
        updated_at: r.updated_at,
    })
}

fn path_of(spec: &TriggerSpec) -> Option<&str> {
    match spec {
        TriggerSpec::Webhook(w) => w.path.as_deref(),
        TriggerSpec::Schedule(_) => None,
    }
}

fn spec_json(spec: &TriggerSpec) -> Result<String> {
    serde_json::to_string(spec).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub async fn insert(
    conn: &mut crate::store::conn::Conn,
    t: &Trigger,
    secret: Option<&[u8]>,
    next_nominal: Option<i64>,
) -> Result<()> {
    crate::store::conn::query(
        "INSERT INTO triggers (id, workflow_id, kind, name, path, spec, secret, paused, next_nominal,
                               created_at, created_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&t.id)
    .bind(&t.workflow_id)
    .bind(t.spec.kind())
    .bind(&t.name)
    .bind(path_of(&t.spec))
    .bind(spec_json(&t.spec)?)
    .bind(secret)
    .bind(t.paused)
    .bind(next_nominal)
    .bind(t.created_at)
    .bind(&t.created_by)
    .bind(t.updated_at)
    .execute(conn)
    .await
    .map_err(|e| StoreError::from(e).unique_as(PATH_TAKEN))?;
    Ok(())
}

/// Changes name and settings (the kind stays); `next_nominal` is computed
/// anew by the caller.
pub async fn update(
    conn: &mut crate::store::conn::Conn,
    id: &TriggerId,
    name: &str,
    spec: &TriggerSpec,
    next_nominal: Option<i64>,
    now: i64,
) -> Result<()> {
    let done = crate::store::conn::query(
        "UPDATE triggers SET name = $1, path = $2, spec = $3, next_nominal = $4, updated_at = $5
         WHERE id = $6",
    )
    .bind(name)
    .bind(path_of(spec))
    .bind(spec_json(spec)?)
    .bind(next_nominal)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await
    .map_err(|e| StoreError::from(e).unique_as(PATH_TAKEN))?;
    crate::store::found(done.rows_affected())
}

/// A trigger of a live (not deleted) workflow.
pub async fn get(conn: &mut crate::store::conn::Conn, id: &TriggerId) -> Result<Trigger> {
    let q = format!(
        "SELECT {COLUMNS} FROM triggers t JOIN workflows w ON w.id = t.workflow_id
         WHERE t.id = $1 AND w.deleted_at IS NULL"
    );
    let r: Row = crate::store::conn::query_as(&q)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    trigger(r)
}

/// The webhook at `/hooks/<path>` (its chosen path, or its id), with its
/// sealed keys (current, previous).
pub async fn webhook_at(
    conn: &mut crate::store::conn::Conn,
    path: &str,
) -> Result<Option<(Trigger, Option<Vec<u8>>, Option<Vec<u8>>)>> {
    let q = format!(
        "SELECT {COLUMNS}, t.secret, t.previous_secret FROM triggers t
         JOIN workflows w ON w.id = t.workflow_id
         WHERE (t.path = $1 OR (t.path IS NULL AND t.id = $1)) AND t.kind = 'webhook'
           AND w.deleted_at IS NULL"
    );
    #[derive(sqlx::FromRow)]
    struct WithKeys {
        #[sqlx(flatten)]
        row: Row,
        secret: Option<Vec<u8>>,
        previous_secret: Option<Vec<u8>>,
    }
    let found: Option<WithKeys> = crate::store::conn::query_as(&q)
        .bind(path)
        .fetch_optional(conn)
        .await?;
    let Some(w) = found else { return Ok(None) };
    Ok(Some((trigger(w.row)?, w.secret, w.previous_secret)))
}

/// The triggers of a workflow, oldest first.
pub async fn list(conn: &mut crate::store::conn::Conn, workflow_id: &str) -> Result<Vec<Trigger>> {
    let q = format!(
        "SELECT {COLUMNS} FROM triggers t WHERE t.workflow_id = $1 ORDER BY t.created_at, t.id"
    );
    let rows: Vec<Row> = crate::store::conn::query_as(&q)
        .bind(workflow_id)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(trigger).collect()
}

pub async fn delete(conn: &mut crate::store::conn::Conn, id: &TriggerId) -> Result<()> {
    crate::store::conn::query("DELETE FROM trigger_events WHERE trigger_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = crate::store::conn::query("DELETE FROM triggers WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    crate::store::found(done.rows_affected())
}

pub async fn set_paused(
    conn: &mut crate::store::conn::Conn,
    id: &TriggerId,
    paused: bool,
    reason: Option<&str>,
    next_nominal: Option<i64>,
    now: i64,
) -> Result<()> {
    let done = crate::store::conn::query(
        "UPDATE triggers SET paused = $1, paused_reason = $2, next_nominal = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(paused)
    .bind(reason)
    .bind(next_nominal)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    crate::store::found(done.rows_affected())
}

/// A new key; the current one stays accepted as the previous key (a key
/// from an earlier rotation is dropped), or is dropped with `retire`.
pub async fn set_secret(
    conn: &mut crate::store::conn::Conn,
    id: &TriggerId,
    sealed: &[u8],
    keep_previous: bool,
    now: i64,
) -> Result<()> {
    let q = if keep_previous {
        "UPDATE triggers SET previous_secret = secret, secret = $1, updated_at = $2 WHERE id = $3"
    } else {
        "UPDATE triggers SET previous_secret = NULL, secret = $1, updated_at = $2 WHERE id = $3"
    };
    let done = crate::store::conn::query(q)
        .bind(sealed)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    crate::store::found(done.rows_affected())
}

/// Stops accepting the previous key.
pub async fn retire_previous(
    conn: &mut crate::store::conn::Conn,
    id: &TriggerId,
    now: i64,
) -> Result<()> {
    let done = crate::store::conn::query(
        "UPDATE triggers SET previous_secret = NULL, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    crate::store::found(done.rows_affected())
}

/// Where a schedule stands: its next nominal time not yet handled.
pub async fn set_next(
    conn: &mut crate::store::conn::Conn,
    id: &TriggerId,
    next: Option<i64>,
) -> Result<()> {
    // never backwards: another process may have handled later fires
    crate::store::conn::query(
        "UPDATE triggers SET next_nominal = CASE WHEN $1 IS NULL THEN NULL
             WHEN next_nominal > $1 THEN next_nominal ELSE $1 END WHERE id = $2",
    )
    .bind(next)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Active schedules of live workflows with a nominal time at or before
/// `until`, with that time.
pub async fn due_schedules(
    conn: &mut crate::store::conn::Conn,
    until: i64,
) -> Result<Vec<(Trigger, i64)>> {
    let q = format!(
        "SELECT {COLUMNS}, t.next_nominal FROM triggers t JOIN workflows w ON w.id = t.workflow_id
         WHERE t.kind = 'schedule' AND NOT t.paused AND t.next_nominal <= $1 AND w.deleted_at IS NULL
         ORDER BY t.next_nominal LIMIT 100"
    );
    #[derive(sqlx::FromRow)]
    struct WithNext {
        #[sqlx(flatten)]
        row: Row,
        next_nominal: i64,
    }
    let rows: Vec<WithNext> = crate::store::conn::query_as(&q)
        .bind(until)
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .map(|w| Ok((trigger(w.row)?, w.next_nominal)))
        .collect()
}

/// The earliest nominal time of any active schedule (the scheduler sleeps
/// until then, at most).
pub async fn next_nominal(conn: &mut crate::store::conn::Conn) -> Result<Option<i64>> {
    Ok(crate::store::conn::query_scalar(
        "SELECT MIN(t.next_nominal) FROM triggers t JOIN workflows w ON w.id = t.workflow_id
         WHERE t.kind = 'schedule' AND NOT t.paused AND w.deleted_at IS NULL",
    )
    .fetch_one(conn)
    .await?)
}

/// Every trigger's id (for pruning their histories).
pub async fn all_ids(conn: &mut crate::store::conn::Conn) -> Result<Vec<TriggerId>> {
    let ids: Vec<String> = crate::store::conn::query_scalar("SELECT id FROM triggers")
        .fetch_all(conn)
        .await?;
    Ok(ids.into_iter().map(TriggerId::from_stored).collect())
}
