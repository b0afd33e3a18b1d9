//! The steps table as a work queue: claims, leases, step updates, recovery.

use super::claim::{Activated, Claimed};
use crate::domain::ids::RunId;
use crate::domain::run::StepStatus;
use crate::domain::transitions::{Machine, StepEvent};
use crate::store::{Result, StoreError};
use serde_json::Value;
use std::sync::LazyLock;

static CLAIM_ONE: LazyLock<String> = LazyLock::new(|| {
    super::claim::claim_sql(&format!(
        "run_id = $4 AND node_id = $5 AND {}",
        StepEvent::Claim.guard("status")
    ))
});

/// Extends the lease of an attempt still held by `worker` to `lease_until`
/// (the heartbeat of a long step). False when it is no longer theirs.
pub async fn renew_lease(
    conn: &mut crate::store::conn::Conn,
    c: &Claimed,
    worker: &str,
    lease_until: i64,
) -> Result<bool> {
    let done = crate::store::conn::query(
        "UPDATE steps SET lease_until = CASE WHEN lease_until > $5 THEN lease_until ELSE $5 END
         WHERE run_id = $1 AND node_id = $2 AND status = 'running' AND lease_owner = $3 AND attempt = $4",
    )
    .bind(&c.run_id)
    .bind(&c.node_id)
    .bind(worker)
    .bind(c.attempt)
    .bind(lease_until)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether `worker` still holds the lease of this attempt (inside a write
/// transaction: nobody can take it away before commit).
pub async fn holds_lease(
    conn: &mut crate::store::conn::Conn,
    c: &Claimed,
    worker: &str,
) -> Result<bool> {
    let n: i64 = crate::store::conn::query_scalar(
        "SELECT COUNT(*) FROM steps WHERE run_id = $1 AND node_id = $2 AND status = 'running'
         AND lease_owner = $3 AND attempt = $4",
    )
    .bind(&c.run_id)
    .bind(&c.node_id)
    .bind(worker)
    .bind(c.attempt)
    .fetch_one(conn)
    .await?;
    Ok(n == 1)
}

/// The fields a finished attempt writes to its step.
pub struct StepUpdate<'a> {
    /// What happened to the running step (its new status is the table's).
    pub event: StepEvent,
    pub not_before: i64,
    pub parked: bool,
    pub port: Option<&'a str>,
    pub output: Option<&'a Value>,
    pub error_class: Option<&'a str>,
    pub error: Option<&'a str>,
    pub confidence: Option<f64>,
    pub cum_confidence: Option<f64>,
    pub finished_at: Option<i64>,
    /// For an `unwritten` claim: the attempt number and start time.
    pub claim: Option<(i64, i64)>,
}

impl<'a> StepUpdate<'a> {
    /// A step that ends (or waits) now with nothing recorded yet; the caller
    /// fills in what the attempt produced.
    pub fn new(event: StepEvent, now: i64) -> Self {
        let status = event.target();
        StepUpdate {
            event,
            not_before: now,
            parked: false,
            port: None,
            output: None,
            error_class: None,
            error: None,
            confidence: None,
            cum_confidence: None,
            finished_at: status.is_final().then_some(now),
            claim: None,
        }
    }
}

impl StepUpdate<'_> {
    pub fn status(&self) -> StepStatus {
        self.event.target()
    }
}

/// Writes a finished attempt's result, as the table allows: from running
/// (or, for a claim taken inside this transaction and never written, from
/// where a claim starts). A step that is elsewhere is an error: the caller
/// checked the lease in this transaction, so it means a bug, and the
/// transaction must not commit. Returns its place in the run's finish
/// order (None while it has not finished).
pub async fn update_step(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
    u: &StepUpdate<'_>,
) -> Result<Option<i64>> {
    let guard = match u.claim {
        Some(_) => StepEvent::Claim.guard("status"),
        None => u.event.guard("status"),
    };
    let done: Option<(Option<i64>,)> = crate::store::conn::query_as(format!(
        "UPDATE steps SET status = $3, not_before = $4, parked = $5, port = $6, output = $7,
                error_class = $8, error = $9, confidence = $10, cum_confidence = $11,
                finished_at = $12, lease_owner = NULL, lease_until = NULL,
                attempt = COALESCE($13, attempt), started_at = COALESCE($14, started_at),
                finish_seq = CASE WHEN $12 IS NULL THEN NULL
                    ELSE (SELECT COALESCE(MAX(finish_seq), 0) + 1 FROM steps WHERE run_id = $1) END
         WHERE run_id = $1 AND node_id = $2 AND {guard}
         RETURNING finish_seq"
    ))
    .bind(run_id)
    .bind(node_id)
    .bind(u.status().as_str())
    .bind(u.not_before)
    .bind(u.parked)
    .bind(u.port)
    .bind(u.output.map(Value::to_string))
    .bind(u.error_class)
    .bind(u.error.map(super::attempts::capped_error))
    .bind(u.confidence)
    .bind(u.cum_confidence)
    .bind(u.finished_at)
    .bind(u.claim.map(|(attempt, _)| attempt))
    .bind(u.claim.map(|(_, started)| started))
    .fetch_optional(conn)
    .await?;
    match done {
        Some((seq,)) => Ok(seq),
        None => Err(StoreError::Conflict(format!(
            "step '{node_id}' of run '{run_id}' cannot move by {:?} from where it is",
            u.event
        ))),
    }
}

static RESOLVE: LazyLock<String> = LazyLock::new(|| {
    debug_assert_eq!(
        StepEvent::Activate.sources(),
        StepEvent::Skip.sources(),
        "one guard serves both"
    );
    format!(
        "UPDATE steps SET status = $3, cum_in = $4, not_before = $5,
                finished_at = CASE WHEN $3 = 'skipped' THEN $5 END
         WHERE run_id = $1 AND node_id = $2 AND {}
         RETURNING attempt, input_override IS NOT NULL",
        StepEvent::Activate.guard("status")
    )
});

/// Activates (ready, with the confidence it starts from) or skips a
/// pending step. Returns the step when it became ready and may run on the
/// spot (nobody gave it an input by hand).
pub async fn resolve_pending(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
    event: StepEvent,
    cum_in: f64,
    now: i64,
) -> Result<Option<Activated>> {
    debug_assert!(matches!(event, StepEvent::Activate | StepEvent::Skip));
    let row: Option<(i64, bool)> = crate::store::conn::query_as(&RESOLVE)
        .bind(run_id)
        .bind(node_id)
        .bind(event.target().as_str())
        .bind(cum_in)
        .bind(now)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some((attempt, false)) if event == StepEvent::Activate => Some(Activated {
            node: node_id.to_string(),
            cum_in,
            attempt: attempt + 1,
        }),
        _ => None,
    })
}

static CANCEL_OPEN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE steps SET {}, lease_owner = NULL, lease_until = NULL, finished_at = $2
         WHERE run_id = $1 AND {}",
        StepEvent::Cancel.set("status"),
        StepEvent::Cancel.guard("status")
    )
});

/// Cancels every step of the run that still has work ahead.
pub async fn cancel_open_steps(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    now: i64,
) -> Result<u64> {
    Ok(crate::store::conn::query(&CANCEL_OPEN)
        .bind(run_id)
        .bind(now)
        .execute(conn)
        .await?
        .rows_affected())
}

/// When the next parked or delayed step is due (for the timer).
pub async fn next_due(conn: &mut crate::store::conn::Conn) -> Result<Option<i64>> {
    Ok(crate::store::conn::query_scalar(NEXT_DUE)
        .fetch_one(conn)
        .await?)
}

pub(super) const NEXT_DUE: &str =
    "SELECT MIN(not_before) FROM steps WHERE status IN ('ready', 'waiting')";

/// Ready steps of one run that are due, excluding compensations and steps
/// given a context by hand.
pub async fn due_in_run(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    now: i64,
) -> Result<Vec<String>> {
    Ok(crate::store::conn::query_scalar(
        "SELECT node_id FROM steps WHERE run_id = $1 AND status = 'ready' AND not_before <= $2
           AND input_override IS NULL AND node_id NOT LIKE '%~compensate'
         ORDER BY rowid",
    )
    .bind(run_id)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Claims one particular ready step (see `claim`).
pub async fn claim_step(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
    worker: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<Claimed>> {
    Ok(crate::store::conn::query_as(&CLAIM_ONE)
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .bind(run_id)
        .bind(node_id)
        .fetch_optional(conn)
        .await?)
}
