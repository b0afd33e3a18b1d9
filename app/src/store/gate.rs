//! SQLite's write gate: this process's writers take turns at it, in order,
//! so only its holder asks SQLite for the write lock (see `Db::write`);
//! how they took turns (for the metrics); what its holders know of the
//! database as the last committed transaction left it; and the one
//! connection write transactions run on.
//!
//! That connection stays with the gate rather than going back to the pool
//! between transactions: taking one from the pool and giving it back cost
//! a round trip to its thread each (sqlx pings a connection it is given
//! back), its pages were read again whenever another connection had
//! written, and its transaction's `BEGIN` was a round trip of its own. A
//! write transaction now sends `BEGIN IMMEDIATE` with its first statement
//! (see [`WriteGate::opening`]) and nothing at all when it writes nothing.

use sqlx::SqliteConnection;
use sqlx::pool::PoolConnection;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the SQLite writers of this process know of the database as their
/// last committed transaction left it, so the next need not read it back.
/// Only a hint: whoever uses it checks it in the statement that relies on
/// it (another process may have written since).
#[derive(Default)]
pub struct Known {
    /// The audit trail's last event: its number and hash.
    audit_head: Option<(i64, String)>,
    /// The connection the gate's holders write on: taken from the pool by
    /// the first write and kept with the gate (given back only when the
    /// database is closed; closed instead if a `ROLLBACK` on it fails).
    writer: Option<PoolConnection<sqlx::Sqlite>>,
    /// The writer connection's commits do not checkpoint the WAL (see
    /// `store::checkpoint`).
    writer_apart: bool,
}

impl std::fmt::Debug for Known {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Known")
            .field("audit_head", &self.audit_head)
            .field("writer", &self.writer.is_some())
            .finish()
    }
}

/// How this process's writers took turns at the SQLite write gates: how
/// many took one, and how long they waited for it and held it (the gate is
/// the one serial part of a SQLite server; held all the time, it bounds
/// the throughput). For the whole process (a server has one database).
struct Turns {
    writes: AtomicU64,
    waited_ns: AtomicU64,
    held_ns: AtomicU64,
}

static TURNS: Turns = Turns {
    writes: AtomicU64::new(0),
    waited_ns: AtomicU64::new(0),
    held_ns: AtomicU64::new(0),
};

/// How this process's writers have taken turns at the gate so far (all
/// zero on PostgreSQL, which has no gate).
pub fn gate_turns() -> TurnsTaken {
    let secs = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e9;
    TurnsTaken {
        writes: TURNS.writes.load(Ordering::Relaxed),
        waited_s: secs(&TURNS.waited_ns),
        held_s: secs(&TURNS.held_ns),
    }
}

/// [`Turns`] as read: writes, seconds waited, seconds held.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TurnsTaken {
    pub writes: u64,
    pub waited_s: f64,
    pub held_s: f64,
}

/// Where a gate holder's transaction on the writer connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tx {
    /// Nothing sent yet: the first statement goes with `BEGIN IMMEDIATE`.
    Unopened,
    /// `BEGIN IMMEDIATE` went and neither `COMMIT` nor `ROLLBACK` has
    /// ended that transaction yet.
    Open,
    /// No transaction: each statement commits alone.
    EachAlone,
}

/// Held while this process writes to SQLite (see [`Db::write`]).
pub struct WriteGate {
    /// Always Some until dropped (a rollback still owed takes it along).
    guard: Option<tokio::sync::OwnedMutexGuard<Known>>,
    since: std::time::Instant,
    /// Where the holder's transaction on the writer connection stands.
    tx: Tx,
    /// `Known` was changed by a transaction that has not committed (it
    /// is forgotten unless it does).
    dirty: bool,
    /// Audit events appended but not yet written: sent together with the
    /// transaction's last writes (`audit::queue_pending`), or at its
    /// commit. None while appends are written at once.
    pending: Option<Vec<super::audit::Pending>>,
    /// Statements to go with `BEGIN IMMEDIATE`, ahead of the first ones
    /// sent ([`WriteGate::send_first`]).
    first: Vec<super::conn::Query<'static>>,
}

impl WriteGate {
    /// The audit trail's last event as known (None: read it).
    pub fn audit_head(&self) -> Option<(i64, String)> {
        self.known().audit_head.clone()
    }

    /// This transaction appended `head` to the audit trail.
    pub fn set_audit_head(&mut self, head: (i64, String)) {
        self.known_mut().audit_head = Some(head);
        self.dirty = true;
    }

    /// From now on this transaction's audit events are kept and written
    /// together at its end, while the chain's head is known.
    pub fn defer_audit(&mut self) {
        self.pending.get_or_insert_with(Vec::new);
    }

    /// Where appends go: the kept events, when they are kept.
    pub(super) fn pending(&mut self) -> Option<&mut Vec<super::audit::Pending>> {
        self.pending.as_mut()
    }

    /// The events kept so far, to write now (appends are kept from here
    /// on still, if they were).
    pub(super) fn take_pending(&mut self) -> Vec<super::audit::Pending> {
        self.pending
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The transaction committed: what it noted stands.
    pub fn committed(&mut self) {
        self.dirty = false;
    }

    /// Whether a batch may end the transaction with its own `COMMIT`:
    /// one is open (or opens with the batch), and no audit event kept
    /// for the commit is still to be written.
    pub(super) fn can_commit_in_batch(&self) -> bool {
        self.tx != Tx::EachAlone && self.pending.as_ref().is_none_or(Vec::is_empty)
    }

    /// A batch's own `COMMIT` ended the transaction.
    pub(super) fn committed_in_batch(&mut self) {
        self.tx = Tx::Unopened;
        self.committed();
    }
}

impl WriteGate {
    fn known(&self) -> &Known {
        self.guard.as_ref().expect("the gate is held until dropped")
    }

    fn known_mut(&mut self) -> &mut Known {
        self.guard.as_mut().expect("the gate is held until dropped")
    }

    /// Whether the gate keeps a writer connection.
    pub(super) fn has_writer(&self) -> bool {
        self.known().writer.is_some()
    }

    /// Writes on `conn` from now on.
    pub(super) fn set_writer(&mut self, conn: PoolConnection<sqlx::Sqlite>) {
        self.known_mut().writer = Some(conn);
        self.known_mut().writer_apart = false;
    }

    /// Whether the writer connection's commits leave checkpoints to others.
    pub(super) fn writer_apart(&self) -> bool {
        self.known().writer_apart
    }

    /// The writer connection's commits leave checkpoints to others now.
    pub(super) fn set_writer_apart(&mut self) {
        self.known_mut().writer_apart = true;
    }

    /// Gives the writer connection back to the pool (so that closing the
    /// pool, which waits for every connection, can end). Between
    /// transactions it has nothing open.
    pub(super) fn release_writer(&mut self) {
        debug_assert!(self.tx != Tx::Open, "released with a transaction open");
        self.known_mut().writer = None;
        self.known_mut().writer_apart = false;
    }

    /// Takes the writer connection away: closed, not given back to the
    /// pool (whatever it had open is rolled back).
    fn close_writer(&mut self) {
        self.tx = Tx::Unopened;
        if let Some(c) = self.known_mut().writer.take() {
            drop(c.detach());
        }
    }

    /// The writer connection (opened by `Db::write` before it lends the gate).
    pub(super) fn writer(&mut self) -> &mut SqliteConnection {
        self.known_mut()
            .writer
            .as_deref_mut()
            .expect("Db::write takes the writer connection before it lends the gate")
    }

    /// What to send before the transaction's first statement: `BEGIN
    /// IMMEDIATE` and the statements kept to go first, the first time
    /// (the transaction is open from then on), then nothing.
    pub(super) fn opening(&mut self) -> Option<(&'static str, Vec<super::conn::Query<'static>>)> {
        self.opens().then(|| {
            self.tx = Tx::Open;
            ("BEGIN IMMEDIATE", std::mem::take(&mut self.first))
        })
    }

    /// Keeps `queries` to go first in this transaction, which has sent
    /// nothing yet: they travel with its `BEGIN`, in the message of the
    /// first statements sent (or at its commit), so writes the caller
    /// knows before anything is read cost no message of their own. A
    /// failing one fails the statements it went with.
    pub fn send_first(&mut self, queries: Vec<super::conn::Query<'static>>) {
        debug_assert!(self.opens(), "the transaction already sent statements");
        self.first.extend(queries);
    }

    /// Whether this transaction has sent no statement yet.
    pub fn has_sent_nothing(&self) -> bool {
        self.opens()
    }

    /// Whether this transaction keeps its audit events for its end
    /// ([`WriteGate::defer_audit`]).
    pub fn keeps_audit(&self) -> bool {
        self.pending.is_some()
    }

    /// The statements kept to go first, when nothing was sent since.
    pub(super) fn take_first(&mut self) -> Vec<super::conn::Query<'static>> {
        std::mem::take(&mut self.first)
    }

    /// Whether the next statement opens the transaction.
    pub(super) fn opens(&self) -> bool {
        self.tx == Tx::Unopened
    }

    /// From now on each statement is a transaction of its own (for writes
    /// of one statement, atomic alone: see `Db::write_each`).
    pub(super) fn each_alone(&mut self) {
        debug_assert!(self.tx == Tx::Unopened, "a transaction is open");
        self.tx = Tx::EachAlone;
    }

    /// Ends the open transaction with `COMMIT` or `ROLLBACK` (nothing to
    /// end when nothing was sent). When a `ROLLBACK` fails, the connection
    /// is closed, which rolls back whatever it had open.
    pub(super) async fn end(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        if self.tx != Tx::Open {
            return Ok(());
        }
        match sqlx::query(sql).execute(self.writer()).await {
            Ok(_) => {
                self.tx = Tx::Unopened;
                Ok(())
            }
            // a failed COMMIT leaves the transaction open: dropped, it is
            // rolled back
            Err(e) if sql == "COMMIT" => Err(e),
            Err(e) => {
                self.close_writer();
                Err(e)
            }
        }
    }
}

/// Rolls back what a dropped write transaction left open, then lets the
/// next writer have the gate and the connection (closed instead when the
/// `ROLLBACK` fails, which rolls back whatever it had open).
async fn roll_back(mut known: tokio::sync::OwnedMutexGuard<Known>) {
    let Some(c) = known.writer.as_deref_mut() else {
        return;
    };
    if let Err(e) = sqlx::query("ROLLBACK").execute(c).await {
        tracing::warn!(error = %e, "rolling back a dropped write transaction failed; its connection is closed");
        if let Some(c) = known.writer.take() {
            drop(c.detach());
        }
    }
}

impl std::fmt::Debug for WriteGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteGate")
    }
}

impl Drop for WriteGate {
    fn drop(&mut self) {
        let Some(mut known) = self.guard.take() else {
            return;
        };
        if self.dirty {
            // rolled back, or dropped before its commit
            known.audit_head = None;
        }
        let held = self.since.elapsed().as_nanos() as u64;
        TURNS.held_ns.fetch_add(held, Ordering::Relaxed);
        if self.tx == Tx::Open {
            // dropped with its transaction open (an error, a cancelled
            // request): the next writer gets the gate once it is rolled
            // back; without a runtime to do that on, closing the
            // connection rolls it back
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => drop(rt.spawn(roll_back(known))),
                Err(_) => {
                    if let Some(c) = known.writer.take() {
                        drop(c.detach());
                    }
                }
            }
        }
    }
}

impl WriteGate {
    /// Waits for the gate, counting the turn.
    pub(super) async fn take(gate: &std::sync::Arc<tokio::sync::Mutex<Known>>) -> WriteGate {
        let asked = std::time::Instant::now();
        let guard = gate.clone().lock_owned().await;
        let since = std::time::Instant::now();
        TURNS.writes.fetch_add(1, Ordering::Relaxed);
        let waited = since.duration_since(asked).as_nanos() as u64;
        TURNS.waited_ns.fetch_add(waited, Ordering::Relaxed);
        WriteGate {
            guard: Some(guard),
            since,
            tx: Tx::Unopened,
            dirty: false,
            pending: None,
            first: Vec::new(),
        }
    }
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
