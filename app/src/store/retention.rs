//! Deleting finished runs past their workflow's retention, a small batch
//! per transaction: each batch's root runs (not child or item runs, which
//! go with their root), everything stored under them (child and item runs,
//! steps, attempts, loop passes, list items, approval items and their
//! decisions), and one audit event saying what went. The audit trail
//! itself is never touched: its events keep their run ids and hashes.
//! Golden runs stay as long as the suite reports that hold them.

use crate::domain::audit::NewAuditEvent;
use crate::store::{Result, audit, conn::Conn};
use serde_json::json;

/// A workflow's retention: runs that finished before `cutoff` go.
#[derive(Clone, Debug, PartialEq)]
pub struct Due {
    pub workflow_id: String,
    pub days: i64,
}

/// Each workflow whose runs are kept a limited time: its own setting,
/// else `default_days` (0: kept for ever).
pub async fn workflows_due(conn: &mut Conn, default_days: i64) -> Result<Vec<Due>> {
    let rows: Vec<(String, Option<i64>)> =
        crate::store::conn::query_as("SELECT id, retention_days FROM workflows")
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(workflow_id, own)| {
            let days = own.unwrap_or(default_days);
            (days > 0).then_some(Due { workflow_id, days })
        })
        .collect())
}

/// The descendants of the runs in `roots` (child and item runs, at any
/// depth), with the roots, as a SQL set.
fn doomed(roots: usize) -> String {
    format!(
        "WITH RECURSIVE doomed(id) AS (
            SELECT id FROM runs WHERE id IN ({})
            UNION ALL
            SELECT r.id FROM runs r JOIN doomed d ON r.parent_run_id = d.id
         ) SELECT id FROM doomed",
        marks(roots)
    )
}

/// `$1, $2, …, $n`.
fn marks(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one batch deleted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Deleted {
    /// Root runs.
    pub runs: u64,
    /// Runs in all, with their child and item runs.
    pub with_children: u64,
}

/// Deletes up to `batch` of the workflow's oldest runs that finished
/// before `cutoff`, in `tx`, with one audit event (at `now`) when any went.
pub async fn delete_batch(
    tx: &mut Conn,
    due: &Due,
    cutoff: i64,
    batch: i64,
    now: i64,
) -> Result<Deleted> {
    let roots: Vec<String> = crate::store::conn::query_scalar(
        "SELECT id FROM runs
         WHERE workflow_id = $1 AND parent_run_id IS NULL AND finished_at IS NOT NULL
           AND finished_at < $2 AND status IN ('succeeded', 'failed', 'cancelled')
           AND origin <> 'golden'
         ORDER BY finished_at LIMIT $3",
    )
    .bind(&due.workflow_id)
    .bind(cutoff)
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    if roots.is_empty() {
        return Ok(Deleted::default());
    }
    let set = doomed(roots.len());
    let statements = [
        format!(
            "DELETE FROM approval_decisions WHERE item_id IN (SELECT id FROM approval_items WHERE run_id IN ({set}))"
        ),
        format!("DELETE FROM approval_items WHERE run_id IN ({set})"),
        format!("DELETE FROM foreach_items WHERE run_id IN ({set})"),
        format!("DELETE FROM step_passes WHERE run_id IN ({set})"),
        format!("DELETE FROM step_attempts WHERE run_id IN ({set})"),
        format!("DELETE FROM steps WHERE run_id IN ({set})"),
        // a trigger's delivery log and a newer re-run keep their rows
        format!("UPDATE trigger_events SET run_id = NULL WHERE run_id IN ({set})"),
        format!("UPDATE runs SET rerun_of = NULL WHERE rerun_of IN ({set})"),
    ];
    for sql in &statements {
        let mut q = crate::store::conn::query(sql);
        for id in &roots {
            q = q.bind(id);
        }
        q.execute(&mut *tx).await?;
    }
    // the runs themselves, children before their parents
    let count = format!("SELECT COUNT(*) FROM ({set}) AS d");
    let children = format!("DELETE FROM runs WHERE parent_run_id IS NOT NULL AND id IN ({set})");
    let own = format!("DELETE FROM runs WHERE id IN ({})", marks(roots.len()));
    let mut q = crate::store::conn::query_scalar::<i64>(&count);
    for id in &roots {
        q = q.bind(id);
    }
    let with_children = q.fetch_one(&mut *tx).await? as u64;
    for sql in [&children, &own] {
        let mut q = crate::store::conn::query(sql);
        for id in &roots {
            q = q.bind(id);
        }
        q.execute(&mut *tx).await?;
    }
    let deleted = Deleted {
        runs: roots.len() as u64,
        with_children,
    };
    audit::append(
        &mut *tx,
        &NewAuditEvent::new(
            now,
            "system",
            "runs.deleted",
            format!("workflow:{}", due.workflow_id),
            json!({
                "workflow_id": due.workflow_id,
                "retention_days": due.days,
                "finished_before": cutoff,
                "runs": deleted.runs,
                "with_child_and_item_runs": deleted.with_children,
                "first": roots.first(),
                "last": roots.last(),
            }),
        ),
    )
    .await?;
    Ok(deleted)
}

/// Sets workflow `id`'s retention (None: the instance default).
pub async fn set_days(conn: &mut Conn, workflow_id: &str, days: Option<i64>) -> Result<()> {
    let r = crate::store::conn::query("UPDATE workflows SET retention_days = $2 WHERE id = $1")
        .bind(workflow_id)
        .bind(days)
        .execute(conn)
        .await?;
    crate::store::found(r.rows_affected())
}
