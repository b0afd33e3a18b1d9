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

/// A batch's root runs: the workflow's oldest finished ones, read in order
/// from the `runs_retention` index (no sort of all its runs).
const ROOTS: &str = "SELECT id FROM runs
     WHERE workflow_id = $1 AND parent_run_id IS NULL AND finished_at IS NOT NULL
       AND finished_at < $2 AND status IN ('succeeded', 'failed', 'cancelled')
       AND origin <> 'golden'
     ORDER BY finished_at LIMIT $3";

/// Deletes up to `batch` of the workflow's oldest runs that finished
/// before `cutoff`, in `tx`, with one audit event (at `now`) when any went.
pub async fn delete_batch(
    tx: &mut Conn,
    due: &Due,
    cutoff: i64,
    batch: i64,
    now: i64,
) -> Result<Deleted> {
    let roots: Vec<String> = crate::store::conn::query_scalar(ROOTS)
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

/// Workflow `id`'s own retention in days (None: the instance default);
/// NotFound when there is no live workflow `id`.
pub async fn days_of(conn: &mut Conn, workflow_id: &str) -> Result<Option<i64>> {
    let row: Option<(Option<i64>,)> = crate::store::conn::query_as(
        "SELECT retention_days FROM workflows WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(workflow_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| r.0).ok_or(crate::store::StoreError::NotFound)
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

#[cfg(test)]
mod tests {
    use crate::store::conn::{Backend, Conn, query_as};

    /// SQLite's plan for `sql`, its steps joined by "; ".
    async fn plan(conn: &mut Conn, sql: &str) -> String {
        let steps: Vec<(i64, i64, i64, String)> = query_as(format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(conn)
            .await
            .unwrap();
        steps
            .into_iter()
            .map(|p| p.3)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Deleting a run makes the database look, for every foreign key that
    /// points at `runs`, for rows still pointing at it. Without an index on
    /// the pointing column that is a scan of the whole table per deleted
    /// run: a retention batch of 200 runs over 100,000 took seconds with
    /// the write lock held (`runs.rerun_of` had none). Every such column
    /// must be found through an index.
    #[tokio::test]
    async fn every_column_pointing_at_a_run_is_found_through_an_index() {
        let (db, _dir) = crate::store::test_db().await;
        if db.backend() != Backend::Sqlite {
            return; // the query plans read below are SQLite's
        }
        let mut conn = db.acquire().await.unwrap();
        let tables: Vec<(String,)> =
            query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let mut pointing = vec![];
        for (table,) in &tables {
            // (the table pointed at, the column pointing)
            let fks: Vec<(String, String)> = query_as(format!(
                "SELECT \"table\", \"from\" FROM pragma_foreign_key_list('{table}')"
            ))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for (_, column) in fks.into_iter().filter(|fk| fk.0 == "runs") {
                pointing.push((table.clone(), column));
            }
        }
        assert!(pointing.len() >= 5, "{pointing:?}");
        for (table, column) in pointing {
            let how = plan(
                &mut conn,
                &format!("SELECT 1 FROM {table} WHERE {column} = 'run_x'"),
            )
            .await;
            assert!(
                how.contains("USING"),
                "{table}.{column} is found by a scan: {how}"
            );
        }
    }

    /// Each batch read its roots by sorting all of the workflow's runs
    /// (70 ms a batch at 100,000 runs): the index gives them in order.
    #[tokio::test]
    async fn a_batch_reads_its_oldest_runs_in_index_order_without_sorting() {
        let (db, _dir) = crate::store::test_db().await;
        if db.backend() != Backend::Sqlite {
            return;
        }
        let mut conn = db.acquire().await.unwrap();
        let sql = super::ROOTS
            .replace("$1", "'wf'")
            .replace("$2", "0")
            .replace("$3", "10");
        let how = plan(&mut conn, &sql).await;
        assert!(
            how.contains("runs_retention") && !how.contains("B-TREE"),
            "{how}"
        );
    }
}
