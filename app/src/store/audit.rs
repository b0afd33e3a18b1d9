//! The append-only audit trail with its SHA-256 hash chain.

use super::Result;
use crate::domain::audit::{AuditEvent, NewAuditEvent};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

static AUDIT_LOCK_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT pg_advisory_xact_lock({})",
        crate::store::db::AUDIT_LOCK
    )
});

/// On PostgreSQL: waits for the audit chain's lock, held by this
/// transaction until it ends (taking it again is free).
pub(crate) async fn lock_chain(conn: &mut crate::store::conn::Conn) -> Result<()> {
    lock_query().execute(conn).await?;
    Ok(())
}

/// The statement [`lock_chain`] sends (PostgreSQL only).
pub(crate) fn lock_query() -> crate::store::conn::Query<'static> {
    crate::store::conn::query(AUDIT_LOCK_SQL.as_str())
}

/// Appends an event inside the caller's transaction (which must hold the
/// write lock, see `Db::write`, so the chain cannot fork).
pub async fn append(conn: &mut crate::store::conn::Conn, ev: &NewAuditEvent) -> Result<i64> {
    if conn.backend() == crate::store::conn::Backend::Postgres {
        // transactions of different runs write side by side: appends
        // take turns, each reading the hash its predecessor committed
        lock_chain(conn).await?;
    }
    let details = ev.details.to_string();
    // SQLite: the head this process's writers last committed, checked by
    // the insert itself (still the last, with that hash)
    let known = conn.gate().and_then(|g| g.audit_head());
    // kept to be written with the transaction's last writes
    if let (Some(g), Some((last, prev))) = (conn.gate(), &known)
        && let Some(pending) = g.pending()
    {
        let seq = last + 1;
        let hash = chain_hash(prev, ev, &details);
        pending.push(Pending {
            seq,
            prev: prev.clone(),
            hash: hash.clone(),
            ev: ev.clone(),
            details,
        });
        g.set_audit_head((seq, hash));
        return Ok(seq);
    }
    let appended = match known {
        Some(head) => append_after(conn, ev, &details, head).await?,
        None => None,
    };
    let (seq, hash) = match appended {
        Some(done) => done,
        None => append_read(conn, ev, &details).await?,
    };
    if let Some(g) = conn.gate() {
        g.set_audit_head((seq, hash));
    }
    Ok(seq)
}

mod batched;
pub use batched::*;

/// Appends after `head` (number, hash) if it is still the last event:
/// the new event's number and hash, or None when it no longer is.
async fn append_after(
    conn: &mut crate::store::conn::Conn,
    ev: &NewAuditEvent,
    details: &str,
    (last, prev): (i64, String),
) -> Result<Option<(i64, String)>> {
    let (seq, hash) = (last + 1, chain_hash(&prev, ev, details));
    let done = bind_event(
        crate::store::conn::query(&APPEND_AFTER),
        seq,
        ev,
        details,
        &prev,
        &hash,
    )
    .bind(last)
    .execute(conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some((seq, hash)))
}

/// Appends after the last event as read: the new event's number and hash.
async fn append_read(
    conn: &mut crate::store::conn::Conn,
    ev: &NewAuditEvent,
    details: &str,
) -> Result<(i64, String)> {
    // the number follows the last one written, not a sequence: a
    // transaction that appends and then rolls back leaves no gap (on
    // PostgreSQL a sequence's numbers are never given back)
    let last: Option<(i64, String)> = crate::store::conn::query_as(
        "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let (seq, prev) = last.map_or((1, String::new()), |(seq, hash)| (seq + 1, hash));
    let hash = chain_hash(&prev, ev, details);
    bind_event(
        crate::store::conn::query(&APPEND),
        seq,
        ev,
        details,
        &prev,
        &hash,
    )
    .execute(conn)
    .await?;
    Ok((seq, hash))
}

const INSERT: &str =
    "INSERT INTO audit_events (seq, at, actor, action, entity, run_id, details, prev_hash, hash)";

static APPEND: LazyLock<String> =
    LazyLock::new(|| format!("{INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"));

/// Appends after event $10 while it is the last, with hash $8.
static APPEND_AFTER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{INSERT} SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
         WHERE EXISTS (SELECT 1 FROM audit_events WHERE seq = $10 AND hash = $8)
           AND NOT EXISTS (SELECT 1 FROM audit_events WHERE seq > $10)"
    )
});

/// Binds an event's columns, in [`INSERT`]'s order.
fn bind_event<'q>(
    q: crate::store::conn::Query<'q>,
    seq: i64,
    ev: &'q NewAuditEvent,
    details: impl crate::store::conn::Bind<'q>,
    prev: impl crate::store::conn::Bind<'q>,
    hash: impl crate::store::conn::Bind<'q>,
) -> crate::store::conn::Query<'q> {
    q.bind(seq)
        .bind(ev.at)
        .bind(&ev.actor)
        .bind(&ev.action)
        .bind(&ev.entity)
        .bind(&ev.run_id)
        .bind(details)
        .bind(prev)
        .bind(hash)
}

/// hash = SHA-256(prev_hash | at | actor | action | entity | run_id | details),
/// fields separated by a 0x1f unit separator so no two events hash alike.
pub fn chain_hash(prev: &str, ev: &NewAuditEvent, details: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &ev.at.to_string(),
        &ev.actor,
        &ev.action,
        &ev.entity,
        ev.run_id.as_deref().unwrap_or(""),
        details,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    entity: String,
    run_id: Option<String>,
    details: String,
}

/// Newest first, at most `limit`, optionally only for one entity.
pub async fn list(
    conn: &mut crate::store::conn::Conn,
    entity: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    let filter = crate::domain::audit::AuditFilter {
        entity: entity.map(String::from),
        ..Default::default()
    };
    search(conn, &filter, limit).await
}

/// Events matching every field of `f` that is set, newest first. Values
/// are bound parameters, never spliced into the SQL.
pub async fn search(
    conn: &mut crate::store::conn::Conn,
    f: &crate::domain::audit::AuditFilter,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    let rows: Vec<Row> = crate::store::conn::query_as(
        "SELECT seq, at, actor, action, entity, run_id, details FROM audit_events
         WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR actor = $2) AND ($3 IS NULL OR action = $3)
           AND ($4 IS NULL OR run_id = $4) AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6)
           AND ($7 IS NULL OR seq < $7)
         ORDER BY seq DESC LIMIT $8",
    )
    .bind(&f.entity)
    .bind(&f.actor)
    .bind(&f.action)
    .bind(&f.run_id)
    .bind(f.from)
    .bind(f.to)
    .bind(f.before_seq)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEvent {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity: r.entity,
            run_id: r.run_id,
            details: serde_json::from_str(&r.details)
                .unwrap_or(serde_json::Value::String(r.details)),
        })
        .collect())
}

pub use crate::domain::audit::VerifyReport;

#[derive(sqlx::FromRow)]
struct ChainRow {
    #[sqlx(flatten)]
    event: Row,
    prev_hash: String,
    hash: String,
}

/// Recomputes the whole chain and names the first broken link: an event
/// whose content no longer matches its hash, whose `prev_hash` is not its
/// predecessor's hash, or a missing sequence number (a deleted event);
/// with an `anchor` kept from an earlier verify, also an anchor event that
/// is gone or different (the newest events removed or rewritten).
pub async fn verify(
    conn: &mut crate::store::conn::Conn,
    anchor: Option<&crate::domain::audit::Anchor>,
) -> Result<VerifyReport> {
    const PAGE: i64 = 5_000;
    let (mut after, mut prev_hash, mut events) = (0i64, String::new(), 0i64);
    let broken = |events, seq, reason: String| VerifyReport {
        events,
        broken_at: Some(seq),
        reason: Some(reason),
        head: None,
    };
    loop {
        let rows: Vec<ChainRow> = crate::store::conn::query_as(
            "SELECT seq, at, actor, action, entity, run_id, details, prev_hash, hash
             FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            if let Some(a) = anchor.filter(|a| a.seq > after) {
                return Ok(broken(
                    events,
                    after + 1,
                    format!(
                        "the trail ends at event {after}, but the anchor names event {}: the events after {after} were removed",
                        a.seq
                    ),
                ));
            }
            return Ok(VerifyReport {
                events,
                broken_at: None,
                reason: None,
                head: (after > 0).then(|| format!("{after}:{prev_hash}")),
            });
        }
        for ChainRow {
            event: r,
            prev_hash: row_prev,
            hash: row_hash,
        } in rows
        {
            if r.seq != after + 1 {
                return Ok(broken(
                    events,
                    after + 1,
                    format!("event {} is missing (deleted)", after + 1),
                ));
            }
            if row_prev != prev_hash {
                return Ok(broken(
                    events,
                    r.seq,
                    format!(
                        "event {} does not follow event {}: its link to the previous hash was changed",
                        r.seq, after
                    ),
                ));
            }
            let ev = NewAuditEvent {
                at: r.at,
                actor: r.actor,
                action: r.action,
                entity: r.entity,
                run_id: r.run_id,
                details: serde_json::Value::Null,
            };
            if chain_hash(&prev_hash, &ev, &r.details) != row_hash {
                return Ok(broken(
                    events,
                    r.seq,
                    format!("event {} was changed after it was written", r.seq),
                ));
            }
            if let Some(a) = anchor.filter(|a| a.seq == r.seq && a.hash != row_hash) {
                return Ok(broken(
                    events,
                    r.seq,
                    format!(
                        "event {} is not the one the anchor names: its hash is {row_hash}, the anchor says {}",
                        r.seq, a.hash
                    ),
                ));
            }
            events += 1;
            after = r.seq;
            prev_hash = row_hash;
        }
    }
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
