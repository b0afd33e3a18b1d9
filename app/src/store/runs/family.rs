//! Runs started by other runs' steps: a Sub-workflow's child, a For each's
//! items. Each knows its parent run and step.

use super::corrupt;
use crate::domain::ids::RunId;
use crate::domain::run::RunStatus;
use crate::store::Result;
use serde_json::Value;
use std::collections::BTreeMap;

/// Runs started by `id`'s Sub-workflow steps that are still going.
pub async fn running_children(
    conn: &mut crate::store::conn::Conn,
    id: &RunId,
) -> Result<Vec<RunId>> {
    let ids: Vec<String> = crate::store::conn::query_scalar(
        "SELECT id FROM runs WHERE parent_run_id = $1 AND status = 'running'",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(RunId::from_stored).collect())
}

/// The newest child run `node` of run `id` started: (id, status, output, error).
pub async fn child_of(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    node: &str,
) -> Result<Option<(RunId, RunStatus, Option<Value>, Option<String>)>> {
    let row: Option<(String, String, Option<String>, Option<String>)> = crate::store::conn::query_as(
        "SELECT id, status, output, error FROM runs WHERE parent_run_id = $1 AND parent_node_id = $2
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(id)
    .bind(node)
    .fetch_optional(conn)
    .await?;
    row.map(|(id, status, output, error)| {
        Ok((
            RunId::from_stored(id),
            RunStatus::parse(&status).ok_or_else(|| corrupt("run status", &status))?,
            output.and_then(|o| serde_json::from_str(&o).ok()),
            error,
        ))
    })
    .transpose()
}

/// How many runs above `id` started it (0: it was not started by a step).
pub async fn depth(conn: &mut crate::store::conn::Conn, id: &str) -> Result<i64> {
    Ok(crate::store::conn::query_scalar(
        "WITH RECURSIVE up(id, parent, n) AS (
             SELECT id, parent_run_id, CAST(0 AS BIGINT) FROM runs WHERE id = $1
             UNION ALL
             SELECT r.id, r.parent_run_id, up.n + 1 FROM runs r JOIN up ON r.id = up.parent
             WHERE up.n < 100)
         SELECT MAX(n) FROM up",
    )
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// Per Sub-workflow step of run `id`, the newest child run it started.
pub async fn children(
    conn: &mut crate::store::conn::Conn,
    id: &RunId,
) -> Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = crate::store::conn::query_as(
        "SELECT parent_node_id, id FROM runs WHERE parent_run_id = $1 AND item_index IS NULL ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}
