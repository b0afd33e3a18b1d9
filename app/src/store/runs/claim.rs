//! Claims: a worker takes a due step as a new, leased attempt.

use crate::domain::ids::RunId;
use crate::domain::transitions::{Machine, StepEvent};
use crate::store::Result;
use std::sync::LazyLock;

/// A step a worker has taken.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimed {
    pub run_id: RunId,
    pub node_id: String,
    pub attempt: i64,
    /// The step was parked (timer, person) and this claim wakes it.
    pub parked: bool,
    pub cum_in: f64,
    pub input_override: Option<String>,
    /// When it became due (its `not_before`); 0 for a step taken in the
    /// transaction that made it ready.
    pub due_at: i64,
    /// Taken inside the transaction that also stores its result, without
    /// writing the claim: that update sets the attempt and start time too.
    #[sqlx(skip)]
    pub unwritten: bool,
}

impl Claimed {
    /// A step just made ready in the current write transaction, taken on
    /// the spot (nobody else can see it before the commit).
    pub fn in_transaction(run_id: &RunId, a: &Activated) -> Claimed {
        Claimed {
            run_id: run_id.clone(),
            node_id: a.node.clone(),
            attempt: a.attempt,
            parked: false,
            cum_in: a.cum_in,
            input_override: None,
            due_at: 0,
            unwritten: true,
        }
    }
}

/// A step `resolve_pending` made ready.
#[derive(Clone, Debug)]
pub struct Activated {
    pub node: String,
    pub cum_in: f64,
    /// The attempt it would start as.
    pub attempt: i64,
}

/// A claim of the steps matching `where_` (?1 worker, ?2 now, ?3 lease end):
/// running, one more attempt, leased, returning what the worker needs.
pub(super) fn claim_sql(where_: &str) -> String {
    format!(
        "UPDATE steps SET {set}, attempt = attempt + 1, lease_owner = $1,
                lease_until = $3, started_at = $2 WHERE {where_}
         RETURNING run_id, node_id, attempt, parked, cum_in, input_override, not_before AS due_at",
        set = StepEvent::Claim.set("status"),
    )
}

/// The first due step, on SQLite, by its rowid (one statement is atomic
/// there).
static CLAIM_DUE: LazyLock<String> = LazyLock::new(|| {
    claim_sql(&format!(
        "rowid = (SELECT rowid FROM steps WHERE {} AND not_before <= $2
                  ORDER BY not_before LIMIT 1)",
        StepEvent::Claim.guard("status")
    ))
});

/// On PostgreSQL: the first due steps, in order, read without locking;
/// a claim then takes the first whose run it can lock ([`claim`]).
static DUE_PG: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT run_id, node_id FROM steps WHERE {} AND not_before <= $1
         ORDER BY not_before LIMIT 16",
        StepEvent::Claim.guard("status")
    )
});

static CLAIM_DUE_ONE: LazyLock<String> = LazyLock::new(|| {
    claim_sql(&format!(
        "run_id = $4 AND node_id = $5 AND {} AND not_before <= $2",
        StepEvent::Claim.guard("status")
    ))
});

static TRY_RUN_LOCK: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT pg_try_advisory_xact_lock({}, hashtext($1))",
        crate::store::db::RUN_LOCKS
    )
});

/// On SQLite: [`claim`], and when the next step (after the one claimed)
/// is due, in one batch: a worker that claimed one learns whether there
/// is more for another worker, and one that found none how long to sleep,
/// without another look.
pub async fn claim_and_next_due(
    conn: &mut crate::store::conn::Conn,
    worker: &str,
    now: i64,
    lease_until: i64,
) -> Result<(Option<Claimed>, Option<i64>)> {
    let mut b = crate::store::conn::Batch::new();
    let claimed = b.push(
        crate::store::conn::query(&CLAIM_DUE)
            .bind(worker)
            .bind(now)
            .bind(lease_until),
    );
    let next = b.push(crate::store::conn::query(super::queue::NEXT_DUE));
    let done = b.run(conn).await?;
    Ok((
        done.row(claimed)?,
        done.scalar::<Option<i64>>(next)?.flatten(),
    ))
}

/// Takes one due step (ready, or parked with its wake-up time passed) and
/// leases it to `worker` until `lease_until`, as a new attempt; two workers
/// never take the same step. On SQLite one statement (atomic there). On
/// PostgreSQL, inside a transaction holding the write lock shared
/// (`Db::write_run`): the first due step whose run this transaction can
/// lock, trying only, so a run another transaction is writing is passed
/// over and the claim sees its run as if it were alone.
pub async fn claim(
    conn: &mut crate::store::conn::Conn,
    worker: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<Claimed>> {
    if conn.backend() == crate::store::conn::Backend::Sqlite {
        return Ok(crate::store::conn::query_as(&CLAIM_DUE)
            .bind(worker)
            .bind(now)
            .bind(lease_until)
            .fetch_optional(conn)
            .await?);
    }
    let due: Vec<(String, String)> = crate::store::conn::query_as(&DUE_PG)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
    for (run, node) in due {
        let locked: bool = crate::store::conn::query_scalar(&TRY_RUN_LOCK)
            .bind(&run)
            .fetch_one(&mut *conn)
            .await?;
        if !locked {
            continue;
        }
        let claimed = crate::store::conn::query_as(&CLAIM_DUE_ONE)
            .bind(worker)
            .bind(now)
            .bind(lease_until)
            .bind(&run)
            .bind(&node)
            .fetch_optional(&mut *conn)
            .await?;
        if claimed.is_some() {
            return Ok(claimed);
        }
    }
    Ok(None)
}
