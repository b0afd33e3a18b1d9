//! For each lists and their item runs: the list a step took, how its item
//! runs stand, and their results in list order.

use super::{corrupt, json_col};
use crate::domain::ids::RunId;
use crate::domain::iteration::{Ended, Tally};
use crate::domain::run::RunStatus;
use crate::store::Result;
use serde_json::Value;

/// Rows per insert (5 values each, well under SQLite's bound on them).
const CHUNK: usize = 400;

/// Stores the list step `node` of run `run` took in attempt `round`.
pub async fn insert_items(
    conn: &mut crate::store::conn::Conn,
    run: &str,
    node: &str,
    round: i64,
    items: &[Value],
) -> Result<()> {
    for (c, chunk) in items.chunks(CHUNK).enumerate() {
        let sql = format!(
            "INSERT INTO foreach_items (run_id, node_id, round, idx, item) VALUES {}",
            crate::store::conn::values(chunk.len(), 5)
        );
        let mut q = crate::store::conn::query(sql);
        for (i, item) in chunk.iter().enumerate() {
            q = q
                .bind(run)
                .bind(node)
                .bind(round)
                .bind((c * CHUNK + i) as i64)
                .bind(item.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The attempt whose list step `node` of run `run` is working through.
pub async fn current_round(
    conn: &mut crate::store::conn::Conn,
    run: &str,
    node: &str,
) -> Result<Option<i64>> {
    Ok(crate::store::conn::query_scalar(
        "SELECT MAX(round) FROM foreach_items WHERE run_id = $1 AND node_id = $2",
    )
    .bind(run)
    .bind(node)
    .fetch_one(conn)
    .await?)
}

/// Item `idx` of the list.
pub async fn item_at(
    conn: &mut crate::store::conn::Conn,
    run: &str,
    node: &str,
    round: i64,
    idx: u64,
) -> Result<Option<Value>> {
    let item: Option<String> = crate::store::conn::query_scalar(
        "SELECT item FROM foreach_items WHERE run_id = $1 AND node_id = $2 AND round = $3 AND idx = $4",
    )
    .bind(run)
    .bind(node)
    .bind(round)
    .bind(idx as i64)
    .fetch_optional(conn)
    .await?;
    Ok(json_col(item))
}

/// How the list's item runs stand.
pub async fn tally(
    conn: &mut crate::store::conn::Conn,
    run: &str,
    node: &str,
    round: i64,
) -> Result<Tally> {
    let total: i64 = crate::store::conn::query_scalar(
        "SELECT COUNT(*) FROM foreach_items WHERE run_id = $1 AND node_id = $2 AND round = $3",
    )
    .bind(run)
    .bind(node)
    .bind(round)
    .fetch_one(&mut *conn)
    .await?;
    let rows: Vec<(String, i64)> = crate::store::conn::query_as(
        "SELECT status, COUNT(*) FROM runs
         WHERE parent_run_id = $1 AND parent_node_id = $2 AND item_round = $3 AND item_index IS NOT NULL
         GROUP BY status",
    )
    .bind(run)
    .bind(node)
    .bind(round)
    .fetch_all(&mut *conn)
    .await?;
    let mut t = Tally {
        total: total as u64,
        ..Tally::default()
    };
    for (status, n) in rows {
        let n = n as u64;
        t.started += n;
        match RunStatus::parse(&status).ok_or_else(|| corrupt("run status", &status))? {
            RunStatus::Running => t.running += n,
            RunStatus::Succeeded => t.succeeded += n,
            RunStatus::Failed => t.failed += n,
            RunStatus::Cancelled => t.cancelled += n,
        }
    }
    Ok(t)
}

/// Item runs still going.
pub async fn running_items(
    conn: &mut crate::store::conn::Conn,
    run: &str,
    node: &str,
    round: i64,
) -> Result<Vec<RunId>> {
    let ids: Vec<String> = crate::store::conn::query_scalar(
        "SELECT id FROM runs WHERE parent_run_id = $1 AND parent_node_id = $2 AND item_round = $3
         AND item_index IS NOT NULL AND status = 'running' ORDER BY item_index",
    )
    .bind(run)
    .bind(node)
    .bind(round)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(RunId::from_stored).collect())
}

/// Which item runs a page holds.
#[derive(Clone, Copy, PartialEq)]
enum Which {
    All,
    Ended,
    NotSucceeded,
}

/// Item runs of a list in list order, from index `from`, at most `limit`.
async fn item_page(
    conn: &mut crate::store::conn::Conn,
    (run, node, round): (&str, &str, i64),
    which: Which,
    from: i64,
    limit: i64,
) -> Result<Vec<crate::domain::records::ItemRun>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        item_index: i64,
        id: String,
        status: String,
        output: Option<String>,
        error: Option<String>,
    }
    let rows: Vec<Row> = crate::store::conn::query_as(
        "SELECT item_index, id, status, output, error FROM runs
         WHERE parent_run_id = $1 AND parent_node_id = $2 AND item_round = $3 AND item_index >= $4
         AND (NOT $5 OR status != 'running') AND (NOT $6 OR status != 'succeeded')
         ORDER BY item_index LIMIT $7",
    )
    .bind(run)
    .bind(node)
    .bind(round)
    .bind(from)
    .bind(which != Which::All)
    .bind(which == Which::NotSucceeded)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(crate::domain::records::ItemRun {
                index: r.item_index,
                run_id: r.id,
                status: RunStatus::parse(&r.status)
                    .ok_or_else(|| corrupt("run status", &r.status))?,
                output: json_col(r.output),
                error: r.error,
            })
        })
        .collect()
}

/// Ended item runs in list order, from index `from`, at most `limit`;
/// `failed_only`: those that did not succeed.
pub async fn ended_items(
    conn: &mut crate::store::conn::Conn,
    run: &str,
    node: &str,
    round: i64,
    failed_only: bool,
    from: u64,
    limit: u64,
) -> Result<Vec<Ended>> {
    let which = if failed_only {
        Which::NotSucceeded
    } else {
        Which::Ended
    };
    let limit = limit.min(i64::MAX as u64) as i64;
    let rows = item_page(conn, (run, node, round), which, from as i64, limit).await?;
    Ok(rows
        .into_iter()
        .map(|r| Ended {
            index: r.index as u64,
            succeeded: r.status == RunStatus::Succeeded,
            output: r.output,
            error: r
                .error
                .or_else(|| (r.status == RunStatus::Cancelled).then(|| "cancelled".into())),
            run_id: r.run_id,
        })
        .collect())
}

/// Per For each step of run `run`, how its latest list stands.
pub async fn iterations(
    conn: &mut crate::store::conn::Conn,
    run: &str,
) -> Result<std::collections::BTreeMap<String, crate::domain::records::Iteration>> {
    let lists: Vec<(String, i64)> = crate::store::conn::query_as(
        "SELECT node_id, MAX(round) FROM foreach_items WHERE run_id = $1 GROUP BY node_id",
    )
    .bind(run)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = std::collections::BTreeMap::new();
    for (node, round) in lists {
        let t = tally(conn, run, &node, round).await?;
        out.insert(
            node,
            crate::domain::records::Iteration {
                round,
                total: t.total,
                running: t.running,
                succeeded: t.succeeded,
                failed: t.failed,
                cancelled: t.cancelled,
                waiting: t.total.saturating_sub(t.started),
            },
        );
    }
    Ok(out)
}

/// The item runs of a list in list order, from index `from`, at most `limit`.
pub async fn item_runs(
    conn: &mut crate::store::conn::Conn,
    run: &str,
    node: &str,
    round: i64,
    from: i64,
    limit: i64,
) -> Result<Vec<crate::domain::records::ItemRun>> {
    item_page(conn, (run, node, round), Which::All, from, limit).await
}
