//! Compensation steps: undoing completed reversible steps after a failure.

use crate::domain::ids::RunId;
use crate::domain::transitions::{Machine, StepEvent};
use crate::store::Result;
use std::sync::LazyLock;

pub use crate::domain::run::{COMPENSATE_SUFFIX, compensated_node};

/// Succeeded steps among `nodes`, most recently finished first.
pub async fn succeeded_latest_first(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    nodes: &[&str],
) -> Result<Vec<String>> {
    let done: Vec<(String,)> = crate::store::conn::query_as(
        "SELECT node_id FROM steps WHERE run_id = $1 AND status = 'succeeded' ORDER BY finish_seq DESC",
    )
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    Ok(done
        .into_iter()
        .map(|(n,)| n)
        .filter(|n| nodes.contains(&n.as_str()))
        .collect())
}

static NEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE steps SET {set}, not_before = $2
         WHERE run_id = $1 AND node_id = (
             SELECT c.node_id FROM steps c JOIN steps o
               ON o.run_id = c.run_id AND c.node_id = o.node_id || '{COMPENSATE_SUFFIX}'
             WHERE c.run_id = $1 AND {guard}
             ORDER BY o.finish_seq DESC LIMIT 1)",
        set = StepEvent::Activate.set("status"),
        guard = StepEvent::Activate.guard("c.status"),
    )
});

/// Makes the next queued compensation ready: the one undoing the latest
/// finished step, so compensations run one at a time in reverse order.
/// Returns whether there was one.
pub async fn next_compensation(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    now: i64,
) -> Result<bool> {
    let done = crate::store::conn::query(&NEXT)
        .bind(run_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
