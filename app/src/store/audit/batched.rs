//! Appends that go in a [`Batch`] with their transaction's other writes
//! (one hand-off to SQLite's thread): one queued with a start's writes, or
//! a completion's kept events sent with its last writes.

use super::{APPEND_AFTER, INSERT, append, append_read, bind_event, chain_hash};
use crate::domain::audit::NewAuditEvent;
use crate::store::Result;
use crate::store::conn::{Batch, Results};

/// An event appended while its transaction keeps them
/// (`WriteGate::defer_audit`), numbered and chained after the head as
/// known, not yet written.
#[derive(Debug)]
pub struct Pending {
    pub(super) seq: i64,
    pub(super) prev: String,
    pub(super) hash: String,
    pub(super) ev: NewAuditEvent,
    pub(super) details: String,
}

/// Queues the transaction's kept events in `b`: the first inserted after
/// the head as known (the check that the chain did not move), the rest
/// together after it (they follow it in the same transaction: nothing can
/// come between); [`settle_pending`] checks them once the batch ran. Each
/// is given with where its statement is in `b` and the rows it writes.
pub fn queue_pending(
    conn: &mut crate::store::conn::Conn,
    b: &mut Batch<'static>,
) -> Vec<(usize, u64, Pending)> {
    let kept = conn.gate().map(|g| g.take_pending()).unwrap_or_default();
    let mut kept = kept.into_iter();
    let Some(first) = kept.next() else {
        return Vec::new();
    };
    let q = bind_owned(crate::store::conn::query(&APPEND_AFTER), &first).bind(first.seq - 1);
    let mut queued = vec![(b.push_guarded(q, 1), 1, first)];
    let rest: Vec<Pending> = kept.collect();
    let mut rest = rest.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<Pending> = rest.by_ref().take(EVENTS_PER_STATEMENT).collect();
        let sql = format!(
            "{INSERT} VALUES {}",
            crate::store::conn::values(chunk.len(), 9)
        );
        let mut q = crate::store::conn::query(sql);
        for p in &chunk {
            q = bind_owned(q, p);
        }
        let at = b.push(q);
        let rows = chunk.len() as u64;
        queued.extend(chunk.into_iter().map(|p| (at, rows, p)));
    }
    queued
}

/// Events written by one statement at most (9 values each).
const EVENTS_PER_STATEMENT: usize = 50;

/// Binds a kept event's columns, in `INSERT`'s order.
fn bind_owned(
    q: crate::store::conn::Query<'static>,
    p: &Pending,
) -> crate::store::conn::Query<'static> {
    q.bind(p.seq)
        .bind(p.ev.at)
        .bind(p.ev.actor.clone())
        .bind(p.ev.action.clone())
        .bind(p.ev.entity.clone())
        .bind(p.ev.run_id.clone())
        .bind(p.details.clone())
        .bind(p.prev.clone())
        .bind(p.hash.clone())
}

/// After the batch: kept events the chain did not take as queued (another
/// process appended since the head was known; the first event's guard
/// stopped the batch, so the statements after it did not run) are
/// appended now, in order, after the head as read.
pub async fn settle_pending(
    conn: &mut crate::store::conn::Conn,
    done: &Results,
    queued: Vec<(usize, u64, Pending)>,
) -> Result<()> {
    let mut moved = false;
    for (at, rows, p) in queued {
        moved = moved || done.affected(at).ok() != Some(rows);
        if moved {
            let head = append_read(conn, &p.ev, &p.details).await?;
            if let Some(g) = conn.gate() {
                g.set_audit_head(head);
            }
        }
    }
    Ok(())
}

/// Writes the transaction's kept events (at its commit, when nothing sent
/// them with other writes).
pub async fn write_pending(conn: &mut crate::store::conn::Conn) -> Result<()> {
    let mut b = Batch::new();
    let queued = queue_pending(conn, &mut b);
    if queued.is_empty() {
        return Ok(());
    }
    let done = b.run(conn).await?;
    settle_pending(conn, &done, queued).await
}

/// An append sent in a [`Batch`] with its transaction's other writes: the
/// insert after the head this writer knows (SQLite), which
/// [`settle`] checks once the batch ran.
pub struct Queued {
    at: usize,
    seq: i64,
    hash: String,
}

/// Queues `ev` in `b` when this transaction knows the chain's head; None
/// when it does not (PostgreSQL; SQLite after a rollback), and then
/// [`settle`] appends it as [`append`] does.
pub fn queue<'q>(
    conn: &mut crate::store::conn::Conn,
    b: &mut Batch<'q>,
    ev: &'q NewAuditEvent,
) -> Option<Queued> {
    let g = conn.gate()?;
    if g.pending().is_some() {
        // the transaction keeps its events: [`settle`] keeps this one too,
        // after them (queued here, it would go in before them)
        return None;
    }
    let (last, prev) = g.audit_head()?;
    let details = ev.details.to_string();
    let (seq, hash) = (last + 1, chain_hash(&prev, ev, &details));
    let q = bind_event(
        crate::store::conn::query(&APPEND_AFTER),
        seq,
        ev,
        details,
        prev,
        hash.clone(),
    )
    .bind(last);
    // the head once this commits (forgotten if it does not; set again by
    // [`settle`] if the insert finds the head moved)
    g.set_audit_head((seq, hash.clone()));
    Some(Queued {
        at: b.push_guarded(q, 1),
        seq,
        hash,
    })
}

/// After the batch ran: `ev`'s number in the chain. Appended now, after
/// the head as read, when nothing was queued or the queued insert found
/// the head moved (another process wrote).
pub async fn settle(
    conn: &mut crate::store::conn::Conn,
    done: &Results,
    queued: Option<Queued>,
    ev: &NewAuditEvent,
) -> Result<i64> {
    let Some(q) = queued else {
        return append(conn, ev).await;
    };
    let (seq, hash) = match done.affected(q.at).ok() {
        Some(1) => (q.seq, q.hash),
        _ => append_read(conn, ev, &ev.details.to_string()).await?,
    };
    if let Some(g) = conn.gate() {
        g.set_audit_head((seq, hash));
    }
    Ok(seq)
}
