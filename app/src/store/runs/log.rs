//! Reading runs back, and the per-attempt step log.

use super::{corrupt, json_col};
use crate::domain::ids::RunId;
use crate::domain::records::{AttemptRecord, RunRecord, StepRecord};
use crate::domain::run::{RunStatus, StepStatus};
use crate::store::conn::Where;
use crate::store::{Result, StoreError};
use serde_json::Value;

#[derive(sqlx::FromRow)]
pub(super) struct RunRow {
    id: RunId,
    workflow_id: String,
    version: i64,
    status: String,
    input: String,
    output: Option<String>,
    error: Option<String>,
    confidence: Option<f64>,
    started_by: String,
    created_at: i64,
    finished_at: Option<i64>,
    deadline_at: Option<i64>,
    rerun_of: Option<RunId>,
    origin: String,
    trigger_id: Option<String>,
    parent_run_id: Option<String>,
    parent_node_id: Option<String>,
    item_index: Option<i64>,
    item_round: Option<i64>,
    item_path: Option<String>,
    item_root: Option<String>,
    chaos: Option<String>,
    /// Its number in its workflow (None for an item run).
    pub(super) number: Option<i64>,
}

/// The run approval item `item` belongs to, as a statement for a batch;
/// [`run_at`] reads its answer.
pub fn run_of_item_query(item: &crate::domain::ids::ItemId) -> crate::store::conn::Query<'_> {
    crate::store::conn::query(
        "SELECT * FROM runs WHERE id = (SELECT run_id FROM approval_items WHERE id = $1)",
    )
    .bind(item)
}

/// The run statement `i` of `done` read, if any.
pub fn run_at(done: &crate::store::conn::Results, i: usize) -> Result<Option<RunRecord>> {
    done.row::<RunRow>(i)?.map(run_record).transpose()
}

pub async fn get_run(conn: &mut crate::store::conn::Conn, id: &RunId) -> Result<RunRecord> {
    let r: RunRow = crate::store::conn::query_as("SELECT * FROM runs WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    run_record(r)
}

/// The filter as SQL over `runs r` with only the conditions it sets, and
/// their arguments (`$1`, `$2`, … in order). Written as `$1 IS NULL OR …`
/// for every field, it kept the planner from any index: the count per
/// status read every run (`runs-page-100k`). A test run is one of a
/// working copy's snapshot (a negative version, see
/// `records::is_test_version`) or a golden set's case. Item runs are
/// listed on their For each's run, not here (a list of thousands would
/// bury every other run).
fn run_filter(f: &crate::domain::records::RunFilter) -> Where<'_> {
    let mut w = Where::new("r.item_index IS NULL");
    if let Some(a) = &f.workflow_id {
        w.and("r.workflow_id = ?1", a);
    }
    if let Some(a) = &f.status {
        w.and("r.status = ?1", a);
    }
    if let Some(a) = &f.started_by {
        w.and("r.started_by = ?1", a);
    }
    if let Some(t) = f.from {
        w.and("r.created_at >= ?1", t);
    }
    if let Some(t) = f.to {
        w.and("r.created_at < ?1", t);
    }
    if let Some(a) = &f.q {
        w.and("instr(r.input, ?1) > 0", a);
    }
    if let Some(t) = f.test {
        w.and("(r.version < 0 OR r.origin = 'golden') = ?1", t);
    }
    w
}

/// One page of runs (newest first, keyset paged) and the counts per status.
pub async fn search(
    conn: &mut crate::store::conn::Conn,
    f: &crate::domain::records::RunFilter,
    limit: i64,
) -> Result<crate::domain::records::RunPage> {
    #[derive(sqlx::FromRow)]
    struct Named {
        #[sqlx(flatten)]
        run: RunRow,
        workflow_name: String,
    }
    let filter = run_filter(f);
    let n = filter.next();
    let after = match &f.before {
        Some(_) => format!(" AND (r.created_at, r.id) < (${n}, ${})", n + 1),
        None => String::new(),
    };
    let mut page = crate::store::conn::query_as::<Named>(format!(
        "SELECT r.*, w.name AS workflow_name FROM runs r JOIN workflows w ON w.id = r.workflow_id
         WHERE {}{after} ORDER BY r.created_at DESC, r.id DESC LIMIT ${}",
        filter.sql(),
        n + if f.before.is_some() { 2 } else { 0 }
    ));
    for a in filter.args() {
        page = page.bind(a);
    }
    if let Some((at, id)) = &f.before {
        page = page.bind(*at).bind(id.as_str());
    }
    let rows = page.bind(limit + 1).fetch_all(&mut *conn).await?;
    let mut count = crate::store::conn::query_as::<(String, i64)>(format!(
        "SELECT r.status, COUNT(*) FROM runs r WHERE {} GROUP BY r.status ORDER BY r.status",
        filter.sql()
    ));
    for a in filter.args() {
        count = count.bind(a);
    }
    let counts = count.fetch_all(&mut *conn).await?;
    let more = rows.len() as i64 > limit;
    let mut runs = Vec::with_capacity(rows.len());
    for n in rows.into_iter().take(limit as usize) {
        runs.push((run_record(n.run)?, n.workflow_name));
    }
    let next = more
        .then(|| runs.last().map(|(r, _)| (r.created_at, r.id.to_string())))
        .flatten();
    Ok(crate::domain::records::RunPage { runs, counts, next })
}

pub(super) fn run_record(r: RunRow) -> Result<RunRecord> {
    Ok(RunRecord {
        status: RunStatus::parse(&r.status).ok_or_else(|| corrupt("run status", &r.status))?,
        input: serde_json::from_str(&r.input).unwrap_or(Value::Null),
        output: json_col(r.output),
        id: r.id,
        workflow_id: r.workflow_id,
        version: r.version,
        error: r.error,
        confidence: r.confidence,
        started_by: r.started_by,
        created_at: r.created_at,
        finished_at: r.finished_at,
        deadline_at: r.deadline_at,
        rerun_of: r.rerun_of,
        origin: crate::domain::run::RunOrigin::parse(&r.origin)
            .ok_or_else(|| corrupt("run origin", &r.origin))?,
        trigger_id: r.trigger_id,
        parent_run_id: r.parent_run_id,
        parent_node_id: r.parent_node_id,
        item: match (r.item_index, r.item_round, r.item_path, r.item_root) {
            (Some(index), Some(round), Some(path), Some(root)) => {
                Some(crate::domain::records::ItemPlace {
                    index,
                    round,
                    path,
                    root,
                })
            }
            _ => None,
        },
        chaos: r.chaos.and_then(|c| serde_json::from_str(&c).ok()),
    })
}

#[derive(sqlx::FromRow)]
pub(super) struct StepRow {
    node_id: String,
    status: String,
    attempt: i64,
    not_before: i64,
    port: Option<String>,
    output: Option<String>,
    error_class: Option<String>,
    error: Option<String>,
    confidence: Option<f64>,
    cum_confidence: Option<f64>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    pass: i64,
}

/// Per step of `run_id`, how many of its attempts ended waiting for a
/// person (the step then parked; its wake-up is counted as an attempt).
pub(super) const WAITS_SQL: &str = "SELECT node_id, COUNT(*) FROM step_attempts
     WHERE run_id = $1 AND outcome = 'parked' GROUP BY node_id";

pub async fn waits(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
) -> Result<std::collections::BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = crate::store::conn::query_as(WAITS_SQL)
        .bind(run_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The newest run of a workflow (any version, test runs too).
pub async fn latest_of(
    conn: &mut crate::store::conn::Conn,
    workflow_id: &str,
) -> Result<Option<RunId>> {
    Ok(crate::store::conn::query_scalar(
        "SELECT id FROM runs WHERE workflow_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(workflow_id)
    .fetch_optional(conn)
    .await?)
}

/// The steps of a run in the order they finished (open ones last).
pub(super) const STEPS_SQL: &str =
    "SELECT node_id, status, attempt, not_before, port, output, error_class, error, confidence,
            cum_confidence, started_at, finished_at, pass
     FROM steps WHERE run_id = $1 ORDER BY finish_seq IS NULL, finish_seq, rowid";

pub async fn get_steps(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
) -> Result<Vec<StepRecord>> {
    let rows: Vec<StepRow> = crate::store::conn::query_as(STEPS_SQL)
        .bind(run_id)
        .fetch_all(&mut *conn)
        .await?;
    step_records(conn, run_id, rows).await
}

/// The steps from their rows ([`STEPS_SQL`]), with their earlier passes.
pub(super) async fn step_records(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    rows: Vec<StepRow>,
) -> Result<Vec<StepRecord>> {
    // earlier passes, read only when a loop went round
    let mut passes = if rows.iter().any(|r| r.pass > 0) {
        super::passes(conn, run_id).await?
    } else {
        Default::default()
    };
    rows.into_iter()
        .map(|r| {
            Ok(StepRecord {
                iterations: passes.remove(&r.node_id).unwrap_or_default(),
                pass: r.pass,
                status: StepStatus::parse(&r.status)
                    .ok_or_else(|| corrupt("step status", &r.status))?,
                output: json_col(r.output),
                node_id: r.node_id,
                attempt: r.attempt,
                not_before: r.not_before,
                port: r.port,
                error_class: r.error_class,
                error: r.error,
                confidence: r.confidence,
                cum_confidence: r.cum_confidence,
                started_at: r.started_at,
                finished_at: r.finished_at,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    node_id: String,
    attempt: i64,
    worker: String,
    started_at: i64,
    finished_at: i64,
    input: Option<String>,
    output: Option<String>,
    outcome: String,
    error_class: Option<String>,
    error: Option<String>,
    confidence: Option<f64>,
    pass: i64,
    lineage: Option<String>,
    model_call: Option<String>,
    console: Option<String>,
}

/// A page of a run's step log, oldest attempt first.
pub async fn get_attempts(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    page: crate::domain::records::Paging,
) -> Result<Vec<AttemptRecord>> {
    let rows: Vec<AttemptRow> = crate::store::conn::query_as(
        "SELECT node_id, attempt, worker, started_at, finished_at, input, output, outcome, error_class, error, confidence, pass,
                lineage, model_call, console
         FROM step_attempts WHERE run_id = $1 ORDER BY started_at, seq, node_id, pass, attempt LIMIT $2 OFFSET $3",
    )
    .bind(run_id)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AttemptRecord {
            input: json_col(r.input),
            output: json_col(r.output),
            node_id: r.node_id,
            attempt: r.attempt,
            worker: r.worker,
            started_at: r.started_at,
            finished_at: r.finished_at,
            outcome: r.outcome,
            error_class: r.error_class,
            error: r.error,
            confidence: r.confidence,
            pass: r.pass,
            lineage: r.lineage.and_then(|l| serde_json::from_str(&l).ok()),
            model_call: r.model_call.and_then(|c| serde_json::from_str(&c).ok()),
            console: r
                .console
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or_default(),
        })
        .collect())
}
