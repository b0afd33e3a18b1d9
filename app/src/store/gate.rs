//! SQLite's write gate: this process's writers take turns at it, in order,
//! so only its holder asks SQLite for the write lock (see `Db::write`);
//! how they took turns (for the metrics); and what its holders know of the
//! database as the last committed transaction left it.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the SQLite writers of this process know of the database as their
/// last committed transaction left it, so the next need not read it back.
/// Only a hint: whoever uses it checks it in the statement that relies on
/// it (another process may have written since).
#[derive(Debug, Default)]
pub struct Known {
    /// The audit trail's last event: its number and hash.
    audit_head: Option<(i64, String)>,
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

/// Held while this process writes to SQLite (see [`Db::write`]).
pub struct WriteGate {
    guard: tokio::sync::OwnedMutexGuard<Known>,
    since: std::time::Instant,
    /// `Known` was changed by a transaction that has not committed (it
    /// is forgotten unless it does).
    dirty: bool,
    /// Audit events appended but not yet written: sent together with the
    /// transaction's last writes (`audit::queue_pending`), or at its
    /// commit. None while appends are written at once.
    pending: Option<Vec<super::audit::Pending>>,
}

impl WriteGate {
    /// The audit trail's last event as known (None: read it).
    pub fn audit_head(&self) -> Option<(i64, String)> {
        self.guard.audit_head.clone()
    }

    /// This transaction appended `head` to the audit trail.
    pub fn set_audit_head(&mut self, head: (i64, String)) {
        self.guard.audit_head = Some(head);
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
}

impl std::fmt::Debug for WriteGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteGate")
    }
}

impl Drop for WriteGate {
    fn drop(&mut self) {
        if self.dirty {
            // rolled back, or dropped before its commit
            *self.guard = Known::default();
        }
        let held = self.since.elapsed().as_nanos() as u64;
        TURNS.held_ns.fetch_add(held, Ordering::Relaxed);
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
            guard,
            since,
            dirty: false,
            pending: None,
        }
    }
}
