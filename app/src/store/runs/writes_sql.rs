//! The statement a flush of [`StepWrites`] writes with, and its values.

use super::{BOUND, StepWrites};
use crate::store::conn::{Arg, Bind, Placeholders};

impl StepWrites {
    /// The values of step `i`'s final row, in [`flush_sql`]'s order.
    pub(super) fn row(&self, i: usize, base: i64) -> Vec<Arg<'static>> {
        let s = &self.steps[i];
        let c = s.change.as_ref().expect("only changed steps are written");
        let d = c.done.as_ref();
        vec![
            s.node.clone().arg(),
            c.from.as_str().to_string().arg(),
            s.status.as_str().to_string().arg(),
            c.cum_in.arg(),
            c.not_before.arg(),
            c.finished_at.arg(),
            d.is_some().arg(),
            d.is_some_and(|d| d.parked).arg(),
            d.and_then(|d| d.port.clone()).arg(),
            d.and_then(|d| d.output.clone()).arg(),
            d.and_then(|d| d.error_class.clone()).arg(),
            d.and_then(|d| d.error.clone()).arg(),
            d.and_then(|d| d.confidence).arg(),
            d.and_then(|d| d.cum_confidence).arg(),
            d.and_then(|d| d.claim).map(|(a, _)| a).arg(),
            d.and_then(|d| d.claim).map(|(_, s)| s).arg(),
            d.and_then(|d| d.seq).map(|k| base + k).arg(),
        ]
    }
}

/// The columns of a step's row its first write sets ([`insert_sql`]), in
/// [`StepWrites::inserted_row`]'s order; the others keep their defaults,
/// as after a new run's insert.
const INSERTED: [&str; 16] = [
    "run_id",
    "node_id",
    "status",
    "attempt",
    "not_before",
    "parked",
    "port",
    "output",
    "error_class",
    "error",
    "confidence",
    "cum_in",
    "cum_confidence",
    "started_at",
    "finished_at",
    "finish_seq",
];

impl StepWrites {
    /// The values of step `i`'s row as this transaction leaves it, for its
    /// insert ([`insert_sql`]): as inserted, with what was changed here.
    pub(super) fn inserted_row(&self, i: usize, base: i64) -> Vec<Arg<'static>> {
        let s = &self.steps[i];
        let c = s.change.as_ref();
        let d = c.and_then(|c| c.done.as_ref());
        vec![
            self.run_id.as_str().to_string().arg(),
            s.node.clone().arg(),
            s.status.as_str().to_string().arg(),
            s.attempt.arg(),
            c.map_or(s.not_before, |c| c.not_before).arg(),
            d.is_some_and(|d| d.parked).arg(),
            d.and_then(|d| d.port.clone()).arg(),
            d.and_then(|d| d.output.clone()).arg(),
            d.and_then(|d| d.error_class.clone()).arg(),
            d.and_then(|d| d.error.clone()).arg(),
            d.and_then(|d| d.confidence).arg(),
            c.map_or(s.cum_in, |c| c.cum_in).arg(),
            d.and_then(|d| d.cum_confidence).arg(),
            d.and_then(|d| d.claim).map(|(_, s)| s).arg(),
            c.and_then(|c| c.finished_at).arg(),
            d.and_then(|d| d.seq).map(|k| base + k).arg(),
        ]
    }
}

/// One statement inserting `rows` steps' rows as a transaction leaves
/// them ([`INSERTED`]'s columns).
pub(super) fn insert_sql(rows: usize, mut p: Placeholders) -> String {
    let values: Vec<String> = (0..rows)
        .map(|_| {
            let row: Vec<String> = INSERTED.iter().map(|_| p.take()).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO steps ({}) VALUES {}",
        INSERTED.join(", "),
        values.join(", ")
    )
}

/// One statement writing `rows` rows ([`BOUND`] values per row, then the
/// run): the columns `resolve_pending` writes, and where a result was
/// recorded (`column7`), the ones `update_step` writes.
pub(super) fn flush_sql(rows: usize, mut p: Placeholders) -> String {
    let values: Vec<String> = (0..rows)
        .map(|_| {
            let row: Vec<String> = (0..BOUND).map(|_| p.take()).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    let kept =
        |col: &str, v: &str| format!("{col} = CASE WHEN v.column7 THEN {v} ELSE steps.{col} END");
    format!(
        "UPDATE steps SET status = v.column3, cum_in = v.column4, not_before = v.column5,
                finished_at = v.column6, {}, {}, {}, {}, {}, {}, {}, {}, {},
                attempt = COALESCE(v.column15, steps.attempt),
                started_at = COALESCE(v.column16, steps.started_at), {}
         FROM (VALUES {}) AS v
         WHERE steps.run_id = {} AND steps.node_id = v.column1 AND steps.status = v.column2",
        kept("parked", "v.column8"),
        kept("port", "v.column9"),
        kept("output", "v.column10"),
        kept("error_class", "v.column11"),
        kept("error", "v.column12"),
        kept("confidence", "v.column13"),
        kept("cum_confidence", "v.column14"),
        kept("lease_owner", "NULL"),
        kept("lease_until", "NULL"),
        kept("finish_seq", "v.column17"),
        values.join(", "),
        p.take()
    )
}
