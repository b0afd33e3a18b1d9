//! What happens to an item after it is created: decisions, closing (by
//! people, the deadline or the run's end), escalation, superseding. Every
//! status change takes its guard from `domain::transitions`, so an item is
//! decided once and a decision never changes.

use super::json;
use crate::domain::ids::{ItemId, RunId};
use crate::domain::transitions::{ItemEvent, Machine};
use crate::store::{Result, StoreError};
use serde_json::Value;
use std::sync::LazyLock;

/// One person's decision on an item.
pub struct NewDecision<'a> {
    pub item_id: &'a ItemId,
    /// The person (`user:<name>`), or the token when it acts for nobody.
    pub actor: &'a str,
    /// `token:<id>` when the person decided through an API token.
    pub via: Option<&'a str>,
    pub decision: &'a str,
    pub comment: &'a str,
    pub output: Option<&'a Value>,
    pub answers: Option<&'a Value>,
    pub at: i64,
}

/// Records one person's decision; Conflict if they already decided (by
/// session or by any of their tokens: decisions are keyed by person).
pub async fn add_decision(conn: &mut crate::store::conn::Conn, d: &NewDecision<'_>) -> Result<()> {
    add_decision_query(d)
        .execute(conn)
        .await
        .map_err(decided_twice)?;
    Ok(())
}

/// [`add_decision`] as a statement for a batch (its error read with
/// [`decided_twice`]).
pub fn add_decision_query<'a>(d: &NewDecision<'a>) -> crate::store::conn::Query<'a> {
    crate::store::conn::query(
        "INSERT INTO approval_decisions (item_id, actor, via, decision, comment, output, answers, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(d.item_id)
    .bind(d.actor)
    .bind(d.via)
    .bind(d.decision)
    .bind(d.comment)
    .bind(d.output.map(json))
    .bind(d.answers.map(json))
    .bind(d.at)
}

/// A failed decision write: Conflict when the person already decided.
pub fn decided_twice(e: sqlx::Error) -> StoreError {
    StoreError::from(e).unique_as("you have already decided this item; each person decides once")
}

static CLOSE: LazyLock<String> = LazyLock::new(|| {
    debug_assert_eq!(ItemEvent::Approve.sources(), ItemEvent::Reject.sources());
    format!(
        "UPDATE approval_items SET status = $2, decided_by = $3, decided_at = $4, final_output = $5,
                comment = $6, current_output = NULL
         WHERE id = $1 AND {}",
        ItemEvent::Approve.guard("status")
    )
});

/// Decides a pending item (`Approve` or `Reject`); false if it was no
/// longer pending (someone, or the deadline, closed it first).
pub async fn close(
    conn: &mut crate::store::conn::Conn,
    item_id: &ItemId,
    event: ItemEvent,
    actor: &str,
    output: Option<&Value>,
    comment: &str,
    at: i64,
) -> Result<bool> {
    let done = close_query(item_id, event, actor, output, comment, at)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// [`close`] as a statement for a batch: it changes one row, or none when
/// the item was no longer pending.
pub fn close_query<'a>(
    item_id: &'a ItemId,
    event: ItemEvent,
    actor: &'a str,
    output: Option<&Value>,
    comment: &'a str,
    at: i64,
) -> crate::store::conn::Query<'a> {
    debug_assert!(matches!(event, ItemEvent::Approve | ItemEvent::Reject));
    crate::store::conn::query(&CLOSE)
        .bind(item_id)
        .bind(event.target().as_str())
        .bind(actor)
        .bind(at)
        .bind(output.map(json))
        .bind(comment)
}

static CANCEL_OPEN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE approval_items SET {}, decided_at = $2, decided_by = 'engine',
                comment = 'the run ended before anyone decided'
         WHERE run_id = $1 AND superseded_at IS NULL AND {}",
        ItemEvent::Cancel.set("status"),
        ItemEvent::Cancel.guard("status")
    )
});

/// Closes the undecided items of a run that ended (an undecided item is
/// always its step's current one, which the step index finds by run).
/// Returns how many.
pub async fn cancel_open(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    at: i64,
) -> Result<u64> {
    Ok(crate::store::conn::query(&CANCEL_OPEN)
        .bind(run_id)
        .bind(at)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Takes a step's current item out of service (the step runs again and
/// will ask anew). An undecided one is cancelled first.
pub async fn supersede(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
    at: i64,
) -> Result<u64> {
    crate::store::conn::query(format!(
        "UPDATE approval_items SET {}, decided_at = $3, decided_by = 'engine',
                comment = 'the step ran again and asked anew'
         WHERE run_id = $1 AND node_id = $2 AND superseded_at IS NULL AND {}",
        ItemEvent::Cancel.set("status"),
        ItemEvent::Cancel.guard("status")
    ))
    .bind(run_id)
    .bind(node_id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(crate::store::conn::query(
        "UPDATE approval_items SET superseded_at = $3
         WHERE run_id = $1 AND node_id = $2 AND superseded_at IS NULL",
    )
    .bind(run_id)
    .bind(node_id)
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected())
}

/// With N-of-M: the output as the approvers so far left it, which the next
/// approver sees. Only while the item is pending.
pub async fn set_current_output(
    conn: &mut crate::store::conn::Conn,
    item_id: &ItemId,
    output: &Value,
) -> Result<()> {
    set_current_output_query(item_id, output)
        .execute(conn)
        .await?;
    Ok(())
}

/// [`set_current_output`] as a statement for a batch.
pub fn set_current_output_query<'a>(
    item_id: &'a ItemId,
    output: &Value,
) -> crate::store::conn::Query<'a> {
    crate::store::conn::query(
        "UPDATE approval_items SET current_output = $2 WHERE id = $1 AND status = 'pending'",
    )
    .bind(item_id)
    .bind(json(output))
}

/// Moves a pending item to `role` after its deadline; false if it was
/// decided first.
pub async fn escalate(
    conn: &mut crate::store::conn::Conn,
    item_id: &ItemId,
    role: &str,
) -> Result<bool> {
    let done = crate::store::conn::query(
        "UPDATE approval_items SET escalated_to = $1, deadline_at = NULL WHERE id = $2 AND status = 'pending'",
    )
    .bind(role)
    .bind(item_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn deadline_action(
    conn: &mut crate::store::conn::Conn,
    item_id: &ItemId,
) -> Result<Option<Value>> {
    let s: Option<Option<String>> = crate::store::conn::query_scalar(
        "SELECT deadline_action FROM approval_items WHERE id = $1",
    )
    .bind(item_id)
    .fetch_optional(conn)
    .await?;
    s.flatten().as_deref().map(super::parse).transpose()
}

/// Lets a worker pick up the waiting step now (its item was decided).
pub async fn wake_step(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
    now: i64,
) -> Result<()> {
    wake_step_query(run_id, node_id, now).execute(conn).await?;
    Ok(())
}

/// [`wake_step`] as a statement for a batch.
pub fn wake_step_query<'a>(
    run_id: &'a RunId,
    node_id: &'a str,
    now: i64,
) -> crate::store::conn::Query<'a> {
    crate::store::conn::query(
        "UPDATE steps SET not_before = $1 WHERE run_id = $2 AND node_id = $3 AND status = 'waiting'",
    )
    .bind(now)
    .bind(run_id)
    .bind(node_id)
}
