//! Compensation steps: undoing completed reversible steps after a failure.

use crate::store::Result;
use sqlx::SqliteConnection;

/// Steps that undo a completed reversible step are queued in the steps
/// table under `<node id>~compensate` (`~` never appears in a node id).
pub const COMPENSATE_SUFFIX: &str = "~compensate";

/// The node a compensation step undoes, if `step_id` is one.
pub fn compensated_node(step_id: &str) -> Option<&str> {
    step_id.strip_suffix(COMPENSATE_SUFFIX)
}

/// Succeeded steps among `nodes`, most recently finished first.
pub async fn succeeded_latest_first(
    conn: &mut SqliteConnection,
    run_id: &str,
    nodes: &[&str],
) -> Result<Vec<String>> {
    let done: Vec<(String,)> = sqlx::query_as(
        "SELECT node_id FROM steps WHERE run_id = ? AND status = 'succeeded' ORDER BY finish_seq DESC",
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

/// Makes the next queued compensation ready: the one undoing the latest
/// finished step, so compensations run one at a time in reverse order.
/// Returns whether there was one.
pub async fn next_compensation(
    conn: &mut SqliteConnection,
    run_id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE steps SET status = 'ready', not_before = ?2
         WHERE run_id = ?1 AND node_id = (
             SELECT c.node_id FROM steps c JOIN steps o
               ON o.run_id = c.run_id AND c.node_id = o.node_id || '~compensate'
             WHERE c.run_id = ?1 AND c.status = 'pending'
             ORDER BY o.finish_seq DESC LIMIT 1)",
    )
    .bind(run_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
