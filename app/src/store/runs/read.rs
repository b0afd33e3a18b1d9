//! A run read as its view and the engine need it, each in one batch (one
//! hand-off to SQLite's thread instead of one a statement).

use super::log::{STEPS_SQL, StepRow, WAITS_SQL, run_record, step_records};
use crate::domain::ids::RunId;
use crate::domain::records::{RunRecord, StepRecord};
use crate::store::conn::{Batch, Conn, query};
use crate::store::{Result, StoreError};
use std::collections::BTreeMap;

/// What a run's view shows above its steps.
pub struct RunHead {
    pub run: RunRecord,
    /// Its number in its workflow (#1 its first run); None for an item
    /// run, which goes by its root run's number.
    pub number: Option<i64>,
    /// Its workflow's name (None if the workflow is gone).
    pub workflow_name: Option<String>,
    /// Its version's definition (None if it is gone or cannot be read):
    /// the one this process remembers (see `workflows::definition`).
    pub definition: Option<std::sync::Arc<crate::domain::graph::WorkflowDef>>,
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    #[sqlx(flatten)]
    run: super::log::RunRow,
    workflow_name: Option<String>,
    has_version: bool,
}

const HEAD_SQL: &str = "SELECT r.*, w.name AS workflow_name, v.version IS NOT NULL AS has_version
     FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id
     LEFT JOIN workflow_versions v ON v.workflow_id = r.workflow_id AND v.version = r.version
     WHERE r.id = $1";

async fn head_of(conn: &mut Conn, id: &RunId, r: HeadRow) -> Result<RunHead> {
    let number = r.run.number;
    let run = run_record(r.run)?;
    let definition = match r.has_version {
        true => {
            match crate::store::workflows::definition(conn, &run.workflow_id, run.version).await {
                Ok(def) => Some(def),
                Err(e) => {
                    tracing::warn!(run_id = %id, error = %e, "the run's version cannot be read");
                    None
                }
            }
        }
        false => None,
    };
    Ok(RunHead {
        number,
        run,
        workflow_name: r.workflow_name,
        definition,
    })
}

/// The run's head alone (an item run's root, for its number).
pub async fn head(conn: &mut Conn, id: &RunId) -> Result<RunHead> {
    let r: HeadRow = crate::store::conn::query_as(HEAD_SQL)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    head_of(conn, id, r).await
}

/// What a run's view shows: its head, its steps, and how often each step
/// was parked.
pub type View = (RunHead, Vec<StepRecord>, BTreeMap<String, i64>);

/// What a run's view reads of it ([`View`]).
pub async fn view(conn: &mut Conn, id: &RunId) -> Result<View> {
    let mut b = Batch::new();
    let at = queue_view(&mut b, id.clone());
    let got = b.run(conn).await?;
    view_at(conn, &got, at, id).await
}

/// Where [`queue_view`] put a run's view statements in a batch.
#[derive(Clone, Copy, Debug)]
pub struct ViewAt {
    head: usize,
    steps: usize,
    waits: usize,
}

impl ViewAt {
    /// Whether the batch `done` ran these statements (a guard that
    /// stopped it before them left them unread).
    pub fn read_in(&self, done: &crate::store::conn::Results) -> bool {
        done.stopped().is_none_or(|s| s > self.waits)
    }
}

/// Queues the statements that read run `id`'s view in `b`: in a
/// transaction's batch, after its writes, they read the run as it commits.
pub fn queue_view<'a>(b: &mut Batch<'a>, id: RunId) -> ViewAt {
    ViewAt {
        head: b.push(query(HEAD_SQL).bind(id.clone())),
        steps: b.push(query(STEPS_SQL).bind(id.clone())),
        waits: b.push(query(WAITS_SQL).bind(id)),
    }
}

/// The view the statements `at` of `done` read (`conn` reads what they
/// leave out: a loop's earlier passes, a definition not remembered).
pub async fn view_at(
    conn: &mut Conn,
    done: &crate::store::conn::Results,
    at: ViewAt,
    id: &RunId,
) -> Result<View> {
    let head = done.row::<HeadRow>(at.head)?.ok_or(StoreError::NotFound)?;
    let steps = step_records(conn, id, done.rows::<StepRow>(at.steps)?).await?;
    let waits = done.rows::<(String, i64)>(at.waits)?.into_iter().collect();
    Ok((head_of(conn, id, head).await?, steps, waits))
}

/// What a worker reads of a run to run one of its steps: the run and its
/// steps.
pub async fn with_steps(conn: &mut Conn, id: &RunId) -> Result<(RunRecord, Vec<StepRecord>)> {
    let mut b = Batch::new();
    let run = b.push(query("SELECT * FROM runs WHERE id = $1").bind(id));
    let steps = b.push(query(STEPS_SQL).bind(id));
    let got = b.run(conn).await?;
    let run = got
        .row::<super::log::RunRow>(run)?
        .ok_or(StoreError::NotFound)?;
    let steps = step_records(conn, id, got.rows::<StepRow>(steps)?).await?;
    Ok((run_record(run)?, steps))
}
