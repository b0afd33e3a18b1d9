//! What the monitoring page and alert rules read: a workflow's runs (or
//! one step's) and items over a range, and its oldest open item. Test runs, golden runs, chaos runs and item
//! runs of a For each are left out.

use super::Result;
use crate::domain::monitoring::{ItemOutcome, ItemPoint, RunPoint};
use crate::domain::run::RunStatus;
use crate::store::conn::{Backend, Conn, query_as, query_scalar};

/// The runs counted by monitoring (the condition of the `runs_monitoring` index).
const MONITORED: &str =
    "r.item_index IS NULL AND r.chaos IS NULL AND r.version > 0 AND r.origin <> 'golden'";

fn status(s: &str) -> RunStatus {
    match s {
        "succeeded" => RunStatus::Succeeded,
        "failed" => RunStatus::Failed,
        "cancelled" | "skipped" => RunStatus::Cancelled,
        _ => RunStatus::Running,
    }
}

/// A range and how its points are grouped: runs started in [from, to),
/// in buckets of `size` ms counted from `origin` (at or before `from`).
/// The points come back grouped (one row per bucket, its runs packed in
/// one string), since a row each costs more than the figures themselves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slice {
    pub from: i64,
    pub to: i64,
    pub origin: i64,
    pub size: i64,
}

impl Slice {
    /// The whole range as one bucket.
    pub fn whole(from: i64, to: i64) -> Slice {
        Slice {
            from,
            to,
            origin: from,
            size: (to - from).max(1),
        }
    }

    /// Where the points of bucket `b` are placed (inside the range).
    fn at(&self, b: i64) -> i64 {
        (self.origin + b * self.size).max(self.from)
    }
}

/// The aggregate that packs a group's values into one string.
fn packed(conn: &Conn, expr: &str) -> String {
    match conn.backend() {
        Backend::Sqlite => format!("group_concat({expr}, ' ')"),
        Backend::Postgres => format!("string_agg({expr}, ' ')"),
    }
}

/// `status:ms:confidence` (empty where unknown) as SQL text, the
/// confidence in ten-thousandths: writing out a real number costs SQLite
/// more than the rest of the query.
fn triple(status: &str, ms: &str, confidence: &str) -> String {
    format!(
        "{status} || ':' || COALESCE(CAST({ms} AS TEXT), '') || ':'
         || COALESCE(CAST(CAST({confidence} * 10000 AS INTEGER) AS TEXT), '')"
    )
}

/// Unpacks every bucket's points.
fn unpack_all(slice: Slice, rows: Vec<(i64, String)>) -> Vec<RunPoint> {
    let mut out = Vec::new();
    for (b, p) in rows {
        unpack(slice.at(b), &p, &mut out);
    }
    out
}

/// Unpacks one bucket's `status:ms:confidence` triples.
fn unpack(at: i64, packed: &str, out: &mut Vec<RunPoint>) {
    for t in packed.split(' ').filter(|t| !t.is_empty()) {
        let mut parts = t.splitn(3, ':');
        let (s, ms, c) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        out.push(RunPoint {
            at,
            status: status(s),
            ms: ms.parse().ok(),
            confidence: c.parse::<i64>().ok().map(|c| c as f64 / 10_000.0),
        });
    }
}

/// The workflow's runs in `slice`, each with its confidence: where a gate
/// stopped it, the cumulative confidence it had there; else the one it
/// ended with.
pub async fn runs(conn: &mut Conn, workflow_id: &str, slice: Slice) -> Result<Vec<RunPoint>> {
    let values = triple(
        "r.status",
        "r.finished_at - r.created_at",
        "COALESCE(r.gate_confidence, r.confidence)",
    );
    let rows: Vec<(i64, String)> = query_as(format!(
        "SELECT (r.created_at - $4) / $5 AS b, {} FROM runs r
         WHERE r.workflow_id = $1 AND r.created_at >= $2 AND r.created_at < $3 AND {MONITORED}
         GROUP BY b",
        packed(conn, &values)
    ))
    .bind(workflow_id)
    .bind(slice.from)
    .bind(slice.to)
    .bind(slice.origin)
    .bind(slice.size.max(1))
    .fetch_all(&mut *conn)
    .await?;
    Ok(unpack_all(slice, rows))
}

/// Step `node_id` in the workflow's runs in `slice`, where it ran (skipped
/// and never reached steps are left out), with the confidence it first
/// reported (before any person decided).
pub async fn step_runs(
    conn: &mut Conn,
    workflow_id: &str,
    node_id: &str,
    slice: Slice,
) -> Result<Vec<RunPoint>> {
    let values = triple(
        "s.status",
        "s.finished_at - s.started_at",
        "COALESCE((SELECT a.confidence FROM step_attempts a
                   WHERE a.run_id = r.id AND a.node_id = s.node_id AND a.confidence IS NOT NULL
                   ORDER BY a.attempt LIMIT 1), s.confidence)",
    );
    let rows: Vec<(i64, String)> = query_as(format!(
        "SELECT (r.created_at - $5) / $6 AS b, {}
         FROM runs r JOIN steps s ON s.run_id = r.id AND s.node_id = $4
         WHERE r.workflow_id = $1 AND r.created_at >= $2 AND r.created_at < $3 AND {MONITORED}
           AND s.status NOT IN ('skipped', 'pending')
         GROUP BY b",
        packed(conn, &values)
    ))
    .bind(workflow_id)
    .bind(slice.from)
    .bind(slice.to)
    .bind(node_id)
    .bind(slice.origin)
    .bind(slice.size.max(1))
    .fetch_all(&mut *conn)
    .await?;
    Ok(unpack_all(slice, rows))
}

/// The workflow's items (of `node_id` only, when given) opened in `slice`,
/// counted per bucket, reason and outcome.
pub async fn items(
    conn: &mut Conn,
    workflow_id: &str,
    node_id: Option<&str>,
    slice: Slice,
) -> Result<Vec<ItemPoint>> {
    let rows: Vec<(i64, String, String, bool, i64)> = query_as(format!(
        "SELECT b, reason, status, edited, COUNT(*) FROM (
             SELECT (i.created_at - $5) / $6 AS b, i.reason, i.status,
                    EXISTS (SELECT 1 FROM approval_decisions d WHERE d.item_id = i.id AND d.output IS NOT NULL) AS edited
             FROM approval_items i JOIN runs r ON r.id = i.run_id
             WHERE i.workflow_id = $1 AND i.created_at >= $2 AND i.created_at < $3
               AND i.superseded_at IS NULL AND ($4 IS NULL OR i.node_id = $4) AND {MONITORED}
         ) x GROUP BY b, reason, status, edited"
    ))
    .bind(workflow_id)
    .bind(slice.from)
    .bind(slice.to)
    .bind(node_id)
    .bind(slice.origin)
    .bind(slice.size.max(1))
    .fetch_all(conn)
    .await?;
    let mut out = Vec::new();
    for (b, reason, st, edited, n) in rows {
        let point = ItemPoint {
            at: slice.at(b),
            gate: reason == "confidence",
            outcome: match (st.as_str(), edited) {
                ("approved", true) => ItemOutcome::Edited,
                ("approved", false) => ItemOutcome::Approved,
                ("rejected", _) => ItemOutcome::Rejected,
                ("pending", _) => ItemOutcome::Open,
                _ => ItemOutcome::Cancelled,
            },
        };
        out.extend(std::iter::repeat_n(point, n.max(0) as usize));
    }
    Ok(out)
}

/// The confidences of the runs (or of step `node_id` in them) of the
/// workflow's newest golden-set run without faults.
pub async fn golden_confidences(
    conn: &mut Conn,
    workflow_id: &str,
    node_id: Option<&str>,
) -> Result<Vec<f64>> {
    let suite = "SELECT id FROM test_suites WHERE workflow_id = $1 AND chaos IS NULL
                 ORDER BY started_at DESC, id DESC LIMIT 1";
    let sql = match node_id {
        None => format!(
            "SELECT r.confidence FROM test_suite_cases c JOIN runs r ON r.id = c.run_id
             WHERE c.suite_id = ({suite}) AND r.confidence IS NOT NULL AND CAST($2 AS TEXT) IS NULL"
        ),
        Some(_) => format!(
            "SELECT s.confidence FROM test_suite_cases c JOIN steps s ON s.run_id = c.run_id AND s.node_id = $2
             WHERE c.suite_id = ({suite}) AND s.confidence IS NOT NULL"
        ),
    };
    Ok(query_scalar(sql)
        .bind(workflow_id)
        .bind(node_id)
        .fetch_all(conn)
        .await?)
}

/// The workflow's name, if it exists.
pub async fn workflow_name(conn: &mut Conn, workflow_id: &str) -> Result<Option<String>> {
    Ok(query_scalar("SELECT name FROM workflows WHERE id = $1")
        .bind(workflow_id)
        .fetch_optional(conn)
        .await?)
}

/// When the workflow's oldest open item was opened.
pub async fn oldest_open(conn: &mut Conn, workflow_id: &str) -> Result<Option<i64>> {
    Ok(query_scalar(format!(
        "SELECT MIN(i.created_at) FROM approval_items i JOIN runs r ON r.id = i.run_id
         WHERE i.workflow_id = $1 AND i.status = 'pending' AND i.superseded_at IS NULL AND {MONITORED}"
    ))
    .bind(workflow_id)
    .fetch_one(conn)
    .await?)
}
