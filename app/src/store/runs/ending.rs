//! Ending a run: the statement that records how it ended also reads what
//! is still around it, so that ending a run with nothing around it costs
//! no more.

use super::RunEnd;
use crate::domain::ids::RunId;
use crate::domain::transitions::{Machine, StepEvent, run_end_event};
use crate::store::{Result, StoreError};
use serde_json::Value;

/// What is still around a run as it ends, read by the statement that ends
/// it (so that ending a run with nothing around it costs no more).
#[derive(Debug, Default)]
pub struct Ended {
    /// The parent step waiting for it: (parent run, node, For each round
    /// when it is an item).
    pub parent: Option<(RunId, String, Option<i64>)>,
    /// It has steps with work ahead (to cancel).
    pub open_steps: bool,
    /// It has undecided approval items (to close).
    pub open_items: bool,
    /// Runs it started are still going (to end with it).
    pub running_children: bool,
}

/// Records how a running run ended, and what is still around it; None if
/// it had ended already. The step changes `writes` keeps are written
/// first, in the same batch (the statement reads the steps).
pub async fn finish_run(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    end: &RunEnd,
    now: i64,
    mut writes: Option<&mut super::StepWrites>,
) -> Result<Option<Ended>> {
    // a run this transaction inserted, with no step left open: nothing
    // can be around it, and its ending goes with the kept step changes
    // (no round trip to read what is around it)
    if let Some(w) = writes.as_deref_mut().filter(|w| w.ends_alone())
        && run_end_event(end.status).is_some()
    {
        w.end_with(end, now);
        return Ok(Some(Ended::default()));
    }
    type Row = (
        Option<String>,
        Option<String>,
        Option<i64>,
        bool,
        bool,
        bool,
    );
    let mut b = crate::store::conn::Batch::new();
    let flush = writes
        .as_ref()
        .map(|w| w.queue_flush(conn.backend(), &mut b));
    let at = b.push(end_query(run_id, end, now, true)?);
    let done = b.run(conn).await?;
    if let (Some(w), Some(f)) = (writes, flush) {
        w.flushed(&done, f)?;
    }
    let row: Option<Row> = done.row(at)?;
    Ok(
        row.map(|(parent, node, round, steps, items, children)| Ended {
            parent: match (parent, node) {
                (Some(p), Some(n)) => Some((RunId::from_stored(p), n, round)),
                _ => None,
            },
            open_steps: steps,
            open_items: items,
            running_children: children,
        }),
    )
}

/// The statement that records how a running run ended; with `around`,
/// it also reads what is still around it (see [`Ended`]).
pub(super) fn end_query(
    run_id: &RunId,
    end: &RunEnd,
    now: i64,
    around: bool,
) -> Result<crate::store::conn::Query<'static>> {
    let Some(event) = run_end_event(end.status) else {
        return Err(StoreError::Conflict("a run cannot end as running".into()));
    };
    let returning = match around {
        true => format!(
            "RETURNING parent_run_id, parent_node_id,
            CASE WHEN item_index IS NULL THEN NULL ELSE item_round END,
            EXISTS (SELECT 1 FROM steps s WHERE s.run_id = runs.id AND {}),
            EXISTS (SELECT 1 FROM approval_items a WHERE a.run_id = runs.id
                    AND a.superseded_at IS NULL AND {}),
            EXISTS (SELECT 1 FROM runs c WHERE c.parent_run_id = runs.id AND c.status = 'running')",
            StepEvent::Cancel.guard("s.status"),
            crate::domain::transitions::ItemEvent::Cancel.guard("a.status"),
        ),
        false => String::new(),
    };
    let sql = format!(
        "UPDATE runs SET {}, output = $2, error = $3, confidence = COALESCE($4, confidence),
                finished_at = $5
         WHERE id = $1 AND {}
         {returning}",
        event.set("status"),
        event.guard("status"),
    );
    Ok(crate::store::conn::query(sql)
        .bind(run_id.as_str().to_string())
        .bind(end.output.as_ref().map(Value::to_string))
        .bind(end.error.clone())
        .bind(end.confidence)
        .bind(now))
}
