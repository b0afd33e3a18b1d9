//! What each trigger's deliveries and fires did, and the runs they started.

use super::{Result, StoreError};
use crate::domain::ids::TriggerId;
use crate::domain::run::RunStatus;
use crate::domain::triggers::{EventOutcome, TriggerEvent};

/// One delivery or fire to record.
pub struct NewEvent<'a> {
    pub trigger_id: &'a TriggerId,
    pub at: i64,
    pub outcome: EventOutcome,
    pub detail: &'a str,
    pub run_id: Option<&'a str>,
    pub delivery_key: Option<&'a str>,
    pub nominal_at: Option<i64>,
}

/// Records `e`. A delivery key or nominal time already recorded is a
/// `Conflict` (the caller answers with the first one's run).
pub async fn insert_event(conn: &mut crate::store::conn::Conn, e: &NewEvent<'_>) -> Result<i64> {
    let id = crate::store::conn::query_scalar(
        "INSERT INTO trigger_events (trigger_id, at, outcome, detail, run_id, delivery_key, nominal_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(e.trigger_id)
    .bind(e.at)
    .bind(e.outcome.as_str())
    .bind(e.detail)
    .bind(e.run_id)
    .bind(e.delivery_key)
    .bind(e.nominal_at)
    .fetch_one(conn)
    .await
    .map_err(|err| StoreError::from(err).unique_as("already recorded"))?;
    Ok(id)
}

/// The run the delivery with `key` started, if it came after `since`;
/// a key older than that is forgotten (so it may start a run again).
pub async fn delivery(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
    key: &str,
    since: i64,
) -> Result<Option<(i64, Option<String>)>> {
    crate::store::conn::query(
        "UPDATE trigger_events SET delivery_key = NULL
         WHERE trigger_id = $1 AND delivery_key = $2 AND at < $3",
    )
    .bind(trigger_id)
    .bind(key)
    .bind(since)
    .execute(&mut *conn)
    .await?;
    Ok(crate::store::conn::query_as(
        "SELECT at, run_id FROM trigger_events WHERE trigger_id = $1 AND delivery_key = $2",
    )
    .bind(trigger_id)
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

/// The most recent deliveries and fires, newest first.
pub async fn events(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
    limit: i64,
) -> Result<Vec<TriggerEvent>> {
    type Row = (i64, String, String, Option<String>, Option<i64>);
    let rows: Vec<Row> = crate::store::conn::query_as(
        "SELECT at, outcome, detail, run_id, nominal_at FROM trigger_events
         WHERE trigger_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(trigger_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(at, outcome, detail, run_id, nominal_at)| {
            Ok(TriggerEvent {
                at,
                outcome: EventOutcome::parse(&outcome)
                    .ok_or_else(|| StoreError::Corrupt(format!("event outcome '{outcome}'")))?,
                detail,
                run_id,
                nominal_at,
            })
        })
        .collect()
}

/// Fires waiting for a run to end, oldest nominal time first: (event id,
/// nominal time).
pub async fn queued(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
) -> Result<Vec<(i64, i64)>> {
    Ok(crate::store::conn::query_as(
        "SELECT id, nominal_at FROM trigger_events
         WHERE trigger_id = $1 AND outcome = 'queued' ORDER BY nominal_at",
    )
    .bind(trigger_id)
    .fetch_all(conn)
    .await?)
}

/// Marks a queued fire as started with `run_id`; false when it was not
/// queued any more (another process started it).
pub async fn start_queued(
    conn: &mut crate::store::conn::Conn,
    event_id: i64,
    run_id: &str,
    at: i64,
) -> Result<bool> {
    let done = crate::store::conn::query(
        "UPDATE trigger_events SET outcome = 'started', run_id = $1, at = $2
         WHERE id = $3 AND outcome = 'queued'",
    )
    .bind(run_id)
    .bind(at)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Runs the trigger started that are still going.
pub async fn running(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
) -> Result<Vec<String>> {
    Ok(crate::store::conn::query_scalar(
        "SELECT id FROM runs WHERE trigger_id = $1 AND status = 'running' ORDER BY created_at",
    )
    .bind(trigger_id)
    .fetch_all(conn)
    .await?)
}

/// How the trigger's most recent ended runs started at or after `since`
/// ended, newest first.
pub async fn recent_ends(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
    since: i64,
    limit: i64,
) -> Result<Vec<RunStatus>> {
    let rows: Vec<String> = crate::store::conn::query_scalar(
        "SELECT status FROM runs WHERE trigger_id = $1 AND status != 'running' AND created_at >= $2
         ORDER BY finished_at DESC, created_at DESC LIMIT $3",
    )
    .bind(trigger_id)
    .bind(since)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().filter_map(|s| RunStatus::parse(s)).collect())
}

/// Keeps the newest `keep` events of a trigger, and every delivery key
/// still within its window (`since`).
pub async fn prune(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
    keep: i64,
    since: i64,
) -> Result<()> {
    crate::store::conn::query(
        "DELETE FROM trigger_events WHERE trigger_id = $1 AND outcome != 'queued'
           AND (delivery_key IS NULL OR at < $3)
           AND id < (SELECT id FROM trigger_events WHERE trigger_id = $1
                     ORDER BY id DESC LIMIT 1 OFFSET $2 - 1)",
    )
    .bind(trigger_id)
    .bind(keep)
    .bind(since)
    .execute(conn)
    .await?;
    Ok(())
}

/// Schedules with fires waiting for a run to end.
pub async fn with_queued(conn: &mut crate::store::conn::Conn) -> Result<Vec<TriggerId>> {
    let ids: Vec<String> = crate::store::conn::query_scalar(
        "SELECT DISTINCT trigger_id FROM trigger_events WHERE outcome = 'queued'",
    )
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(TriggerId::from_stored).collect())
}

/// Whether the schedule's nominal time `nominal` was handled already.
pub async fn handled(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
    nominal: i64,
) -> Result<bool> {
    Ok(crate::store::conn::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM trigger_events WHERE trigger_id = $1 AND nominal_at = $2)",
    )
    .bind(trigger_id)
    .bind(nominal)
    .fetch_one(conn)
    .await?)
}

/// Whether the schedule is still active and still waits for `nominal` as
/// its next time: false once another scheduler (or a person) moved it on.
pub async fn still_due(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
    nominal: i64,
) -> Result<bool> {
    Ok(crate::store::conn::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM triggers WHERE id = $1 AND NOT paused AND next_nominal = $2)",
    )
    .bind(trigger_id)
    .bind(nominal)
    .fetch_one(conn)
    .await?)
}

/// Keeps the newest `keep` refused deliveries of a trigger.
pub async fn keep_refused(
    conn: &mut crate::store::conn::Conn,
    trigger_id: &TriggerId,
    keep: i64,
) -> Result<()> {
    crate::store::conn::query(
        "DELETE FROM trigger_events WHERE trigger_id = $1 AND outcome = 'refused'
           AND id < (SELECT id FROM trigger_events WHERE trigger_id = $1 AND outcome = 'refused'
                     ORDER BY id DESC LIMIT 1 OFFSET $2 - 1)",
    )
    .bind(trigger_id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(())
}
