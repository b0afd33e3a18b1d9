//! Leases that ran out: steps whose worker died go back to the queue (or
//! fail once they took their worker down too often), and runs past their
//! deadline are found. Each transition takes its guard from the table.

use crate::domain::ids::RunId;
use crate::domain::transitions::{Machine, StepEvent};
use crate::store::Result;
use std::sync::LazyLock;

/// A worker that dies this many times running the same step (its lease
/// ran out each time) fails the step instead of taking the process down
/// again and again.
pub const MAX_LOST_ATTEMPTS: i64 = 3;

/// A step whose worker stopped, returned to the queue or given up.
#[derive(Clone, Debug, PartialEq)]
pub struct Lost {
    pub run_id: RunId,
    pub node_id: String,
    /// It failed: its workers died `MAX_LOST_ATTEMPTS` times.
    pub gave_up: bool,
}

static RECOVER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE steps SET {}, lease_owner = NULL, lease_until = NULL, not_before = $3, lost = lost + 1
         WHERE run_id = $1 AND node_id = $2 AND {}",
        StepEvent::LeaseExpired.set("status"),
        StepEvent::LeaseExpired.guard("status")
    )
});

static GIVE_UP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE steps SET {}, lease_owner = NULL, lease_until = NULL, lost = lost + 1,
                error_class = 'transient', error = $4, finished_at = $3,
                finish_seq = (SELECT COALESCE(MAX(finish_seq), 0) + 1 FROM steps WHERE run_id = $1)
         WHERE run_id = $1 AND node_id = $2 AND {}",
        StepEvent::Fail.set("status"),
        StepEvent::Fail.guard("status")
    )
});

static RELEASE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE steps SET {}, lease_owner = NULL, lease_until = NULL, not_before = $2
         WHERE lease_owner = $1 AND {}
         RETURNING run_id, node_id, attempt, COALESCE(started_at, 0) AS started_at",
        StepEvent::LeaseExpired.set("status"),
        StepEvent::LeaseExpired.guard("status")
    )
});

/// Why a released attempt did not finish, in its step log.
pub const RELEASED: &str = "the server was stopping and the step had not finished within the shutdown grace period; released to run again";

/// Returns every step `worker` still holds to the queue at once (the
/// process is stopping and gave them their grace period), each logged as
/// an attempt that did not finish. Unlike a lease that ran out this is no
/// crash: it does not count towards giving the step up. The steps run
/// again, here after a restart or at once in another process.
pub async fn release_held(
    conn: &mut crate::store::conn::Conn,
    worker: &str,
    now: i64,
) -> Result<Vec<(RunId, String)>> {
    let held: Vec<(RunId, String, i64, i64)> = crate::store::conn::query_as(RELEASE.as_str())
        .bind(worker)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
    for (run_id, node_id, attempt, started_at) in &held {
        crate::store::conn::query(
            "INSERT INTO step_attempts (run_id, node_id, attempt, worker, started_at, finished_at, outcome, error_class, error, seq)
             VALUES ($1, $2, $3, $4, $5, $6, 'lost', 'transient', $7, $8)
             ON CONFLICT DO NOTHING",
        )
        .bind(run_id)
        .bind(node_id)
        .bind(attempt)
        .bind(worker)
        .bind(started_at)
        .bind(now)
        .bind(RELEASED)
        .bind(super::attempts::log_seq())
        .execute(&mut *conn)
        .await?;
    }
    Ok(held.into_iter().map(|(r, n, _, _)| (r, n)).collect())
}

/// A step whose lease ran out: its worker died (or hangs).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Expired {
    pub run_id: RunId,
    pub node_id: String,
    pub attempt: i64,
    pub worker: String,
    pub started_at: i64,
    /// Attempts lost before this one.
    pub lost: i64,
}

/// Steps whose lease ran out before `now`.
pub async fn expired_leases(conn: &mut crate::store::conn::Conn, now: i64) -> Result<Vec<Expired>> {
    Ok(crate::store::conn::query_as(
        "SELECT run_id, node_id, attempt, COALESCE(lease_owner, '') AS worker,
                COALESCE(started_at, 0) AS started_at, lost
         FROM steps WHERE status = 'running' AND lease_until < $1",
    )
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Returns one expired step to the queue as a new attempt, or fails it once
/// it lost `MAX_LOST_ATTEMPTS`; the lost attempt is logged either way. None
/// when someone else recovered or finished it first. The caller moves the
/// run on past a step given up, in the same transaction.
pub async fn recover_one(
    conn: &mut crate::store::conn::Conn,
    e: &Expired,
    now: i64,
) -> Result<Option<Lost>> {
    let gave_up = e.lost + 1 >= MAX_LOST_ATTEMPTS;
    let error = if gave_up {
        format!(
            "the process running this step stopped before it finished, {} times in a row (it may be what stops it); not tried again",
            e.lost + 1
        )
    } else {
        "the worker stopped before finishing (lease expired)".to_string()
    };
    let q = if gave_up { &GIVE_UP } else { &RECOVER };
    let moved = crate::store::conn::query(format!(
        "{} AND attempt = $5 AND lease_until < $3",
        q.as_str()
    ))
    .bind(&e.run_id)
    .bind(&e.node_id)
    .bind(now)
    .bind(&error)
    .bind(e.attempt)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(None);
    }
    crate::store::conn::query(
        "INSERT INTO step_attempts (run_id, node_id, attempt, worker, started_at, finished_at, outcome, error_class, error, seq)
         VALUES ($1, $2, $3, $4, $5, $6, 'lost', 'transient', $7, $8)
         ON CONFLICT DO NOTHING",
    )
    .bind(&e.run_id)
    .bind(&e.node_id)
    .bind(e.attempt)
    .bind(&e.worker)
    .bind(e.started_at)
    .bind(now)
    .bind(&error)
    .bind(super::attempts::log_seq())
    .execute(&mut *conn)
    .await?;
    Ok(Some(Lost {
        run_id: e.run_id.clone(),
        node_id: e.node_id.clone(),
        gave_up,
    }))
}

/// Runs past their deadline that are still running.
pub async fn overdue_runs(conn: &mut crate::store::conn::Conn, now: i64) -> Result<Vec<RunId>> {
    Ok(crate::store::conn::query_scalar(
        "SELECT id FROM runs WHERE status = 'running' AND deadline_at IS NOT NULL AND deadline_at <= $1",
    )
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Sets the port a failed step finished through (`error` when an error
/// edge catches it).
pub async fn set_port(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
    port: &str,
) -> Result<()> {
    crate::store::conn::query("UPDATE steps SET port = $1 WHERE run_id = $2 AND node_id = $3")
        .bind(port)
        .bind(run_id)
        .bind(node_id)
        .execute(conn)
        .await?;
    Ok(())
}
