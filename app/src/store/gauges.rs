//! What the metrics read of the database when scraped: the queue's depth
//! and age, and the items waiting for people.

use super::Result;
use crate::domain::transitions::{Machine, StepEvent};
use crate::store::conn::{Conn, query_as};
use std::sync::LazyLock;

static DUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT COUNT(*), MIN(not_before) FROM steps WHERE {} AND not_before <= $1",
        StepEvent::Claim.guard("status")
    )
});

/// How many steps are due at `now` and not yet claimed, and since when
/// the oldest of them has been due.
pub async fn due_steps(conn: &mut Conn, now: i64) -> Result<(i64, Option<i64>)> {
    Ok(query_as(&DUE).bind(now).fetch_one(conn).await?)
}

/// Items waiting for a decision, by reason (`approval`, `confidence`).
pub async fn waiting_items(conn: &mut Conn) -> Result<Vec<(String, i64)>> {
    Ok(query_as(
        "SELECT reason, COUNT(*) FROM approval_items WHERE status = 'pending' GROUP BY reason",
    )
    .fetch_all(conn)
    .await?)
}
