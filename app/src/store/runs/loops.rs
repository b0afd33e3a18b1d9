//! Bounded loops in the steps table: a step of a loop that goes round
//! again keeps what it ended with in `step_passes` and waits for its next
//! pass.

use super::json_col;
use crate::domain::ids::RunId;
use crate::domain::transitions::{Machine, StepEvent};
use crate::store::Result;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static REPEAT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE steps SET {}, pass = CASE WHEN $3 IS NULL THEN pass ELSE pass + 1 END,
                lap = COALESCE($3, lap),
                pass_base = CASE WHEN $3 IS NULL THEN pass_base ELSE attempt END,
                not_before = $4, port = NULL, output = NULL, error = NULL, error_class = NULL,
                confidence = NULL, cum_confidence = NULL, started_at = NULL, finished_at = NULL,
                finish_seq = NULL, input_override = NULL, parked = FALSE, lost = 0,
                lease_owner = NULL, lease_until = NULL
         WHERE run_id = $1 AND node_id = $2 AND {}",
        StepEvent::Repeat.set("status"),
        StepEvent::Repeat.guard("status")
    )
});

/// Makes step `node` wait again: with `lap`, for its next pass (what it
/// ended with is kept as the pass it was in; `lap` is its own loop's count
/// of passes, 0 for a step that is no loop's entry); without, in the pass
/// it is in (a step the loop's last pass skipped). Returns whether the
/// step was in a state to repeat.
pub async fn repeat_step(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node: &str,
    lap: Option<u32>,
    now: i64,
) -> Result<bool> {
    if lap.is_some() {
        crate::store::conn::query(
            "INSERT INTO step_passes (run_id, node_id, pass, status, port, output, confidence, finished_at)
             SELECT run_id, node_id, pass, status, port, output, confidence, finished_at
             FROM steps WHERE run_id = $1 AND node_id = $2
             ON CONFLICT (run_id, node_id, pass) DO UPDATE SET status = excluded.status, port = excluded.port,
                 output = excluded.output, confidence = excluded.confidence, finished_at = excluded.finished_at",
        )
        .bind(run_id)
        .bind(node)
        .execute(&mut *conn)
        .await?;
    }
    let done = crate::store::conn::query(&REPEAT)
        .bind(run_id)
        .bind(node)
        .bind(lap.map(i64::from))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The outputs of the earlier passes of the run's loop steps, by step, in
/// pass order (null where a pass produced none).
pub async fn passes(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
) -> Result<BTreeMap<String, Vec<Value>>> {
    let rows: Vec<(String, Option<String>)> = crate::store::conn::query_as(
        "SELECT node_id, output FROM step_passes WHERE run_id = $1 ORDER BY node_id, pass",
    )
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (node, output) in rows {
        out.entry(node)
            .or_default()
            .push(json_col(output).unwrap_or(Value::Null));
    }
    Ok(out)
}

/// How many attempts step `node` had before its current pass.
pub async fn pass_base(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node: &str,
) -> Result<i64> {
    Ok(crate::store::conn::query_scalar(
        "SELECT pass_base FROM steps WHERE run_id = $1 AND node_id = $2",
    )
    .bind(run_id)
    .bind(node)
    .fetch_optional(conn)
    .await?
    .unwrap_or(0))
}

/// A loop's entry whose passes are used up leaves through `exhausted`.
pub async fn take_exhausted(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    entry: &str,
) -> Result<()> {
    crate::store::conn::query(
        "UPDATE steps SET port = $1 WHERE run_id = $2 AND node_id = $3 AND status = 'succeeded'",
    )
    .bind(crate::domain::graph::PORT_EXHAUSTED)
    .bind(run_id)
    .bind(entry)
    .execute(conn)
    .await?;
    Ok(())
}
