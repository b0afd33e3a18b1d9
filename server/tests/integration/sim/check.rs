//! The invariants the simulation checks, read from the database (and the
//! receiver's log of calls) after every operation and at the end.

use app::store::Db;
use std::collections::HashMap;

type Res = Result<(), String>;

/// What a decided item looked like when first seen decided.
pub type Decided = HashMap<String, (String, Option<String>, Option<String>)>;

macro_rules! none_of {
    ($db:expr, $what:literal, $sql:expr) => {{
        let rows: Vec<(String,)> = app::store::conn::query_as($sql)
            .fetch_all(&mut $db.acquire().await.unwrap())
            .await
            .map_err(|e| e.to_string())?;
        if let Some((first,)) = rows.first() {
            return Err(format!("{}: {first} ({} in all)", $what, rows.len()));
        }
    }};
}

/// A parked step with no deadline; the engine's `NEVER`.
const NEVER: i64 = i64::MAX / 2;

/// Checked after every operation.
pub async fn always(db: &Db, decided: &mut Decided) -> Res {
    none_of!(
        db,
        "a step has two succeeded attempts in one pass",
        "SELECT run_id || ':' || node_id || '@' || pass FROM step_attempts WHERE outcome = 'succeeded'
         GROUP BY run_id, node_id, pass HAVING COUNT(*) > 1"
    );
    none_of!(
        db,
        "an item of an ended run is still pending",
        "SELECT i.id FROM approval_items i JOIN runs r ON r.id = i.run_id
         WHERE i.status = 'pending' AND r.status != 'running'"
    );
    none_of!(
        db,
        "a running run waits on nothing (no step due, leased, timed or asking someone)",
        &format!(
            "SELECT r.id || ' [' || (SELECT string_agg(s.node_id || '=' || s.status || COALESCE('/' || s.port, '')
                 || CASE WHEN s.pass > 0 THEN '#' || s.pass ELSE '' END, ', ') FROM steps s WHERE s.run_id = r.id) || ']'
             FROM runs r WHERE r.status = 'running' AND NOT EXISTS (
               SELECT 1 FROM steps s WHERE s.run_id = r.id AND (
                 s.status IN ('ready', 'running')
                 OR (s.status = 'waiting' AND (s.not_before < {NEVER} OR EXISTS (
                   SELECT 1 FROM approval_items i WHERE i.run_id = s.run_id AND i.node_id = s.node_id
                     AND i.status = 'pending' AND i.superseded_at IS NULL) OR EXISTS (
                   SELECT 1 FROM runs c WHERE c.parent_run_id = s.run_id AND c.parent_node_id = s.node_id
                     AND c.status = 'running')))))"
        )
    );
    none_of!(
        db,
        "an item of a For each's list has two runs",
        "SELECT parent_run_id || ':' || parent_node_id || '[' || item_index || ']' FROM runs
         WHERE item_index IS NOT NULL GROUP BY parent_run_id, parent_node_id, item_round, item_index
         HAVING COUNT(*) > 1"
    );
    none_of!(
        db,
        "a For each's items run while its step no longer waits for them",
        "SELECT c.id FROM runs c JOIN steps s ON s.run_id = c.parent_run_id AND s.node_id = c.parent_node_id
         WHERE c.item_index IS NOT NULL AND c.status = 'running' AND s.status != 'waiting'
           AND s.status != 'running'"
    );
    none_of!(
        db,
        "an approved item has fewer approvals than it requires",
        "SELECT i.id FROM approval_items i WHERE i.status = 'approved' AND i.decided_by != 'deadline'
           AND (SELECT COUNT(*) FROM approval_decisions d WHERE d.item_id = i.id AND d.decision = 'approve') < i.required"
    );
    // no decision changes after it was made
    let rows: Vec<(String, String, Option<String>, Option<String>)> = app::store::conn::query_as(
        "SELECT id, status, decided_by, final_output FROM approval_items WHERE status != 'pending'",
    )
    .fetch_all(&mut db.acquire().await.unwrap())
    .await
    .map_err(|e| e.to_string())?;
    for (id, status, by, out) in rows {
        let now = (status, by, out);
        match decided.get(&id) {
            Some(was) if *was != now => {
                return Err(format!(
                    "item {id} changed after it was decided: {was:?} -> {now:?}"
                ));
            }
            Some(_) => {}
            None => {
                decided.insert(id, now);
            }
        }
    }
    Ok(())
}

/// Checked at the end, after everything that can happen happened.
pub async fn at_end(db: &Db, calls: &[String], zombies: &HashMap<String, usize>) -> Res {
    none_of!(
        db,
        "a run never ended",
        "SELECT id FROM runs WHERE status = 'running'"
    );
    // every call carries its key; calls of a key are bounded by the
    // attempts the step log recorded (lost ones included) plus the results
    // thrown away because the run ended while a worker held the step. An
    // item's key is the same in every list its For each took (a retried
    // For each repeats an item's call with the key it had).
    let mut per_key: HashMap<&str, usize> = HashMap::new();
    for k in calls {
        if !(k.starts_with("run_") && k.contains(':')) {
            return Err(format!("an Http call without its idempotency key: '{k}'"));
        }
        *per_key.entry(k.as_str()).or_default() += 1;
    }
    let logged: Vec<(String, i64)> = app::store::conn::query_as(
        "SELECT CASE WHEN r.item_index IS NULL THEN a.run_id || ':' || a.node_id
                ELSE r.item_root || ':' || a.node_id || ':' || r.item_path END
                || CASE WHEN a.pass > 0 THEN '@' || a.pass ELSE '' END, COUNT(*)
         FROM step_attempts a JOIN runs r ON r.id = a.run_id GROUP BY 1",
    )
    .fetch_all(&mut db.acquire().await.unwrap())
    .await
    .map_err(|e| e.to_string())?;
    let logged: HashMap<String, i64> = logged.into_iter().collect();
    for (k, n) in per_key {
        let bound =
            logged.get(k).copied().unwrap_or(0) as usize + zombies.get(k).copied().unwrap_or(0);
        if n > bound {
            return Err(format!(
                "key {k} was called {n} times; the step log and discarded results allow {bound}"
            ));
        }
    }
    // compensations run at most once each, in reverse completion order
    let comps: Vec<(String, String, i64, i64)> = app::store::conn::query_as(
        "SELECT c.run_id, c.node_id, c.finish_seq, o.finish_seq FROM steps c JOIN steps o
           ON o.run_id = c.run_id AND c.node_id = o.node_id || '~compensate'
         WHERE c.finish_seq IS NOT NULL ORDER BY c.run_id, c.finish_seq",
    )
    .fetch_all(&mut db.acquire().await.unwrap())
    .await
    .map_err(|e| e.to_string())?;
    for pair in comps.windows(2) {
        let ((r1, n1, _, o1), (r2, n2, _, o2)) = (&pair[0], &pair[1]);
        if r1 == r2 && o1 <= o2 {
            return Err(format!(
                "run {r1}: {n1} was undone before {n2}, but its step finished earlier"
            ));
        }
    }
    // every ended run and every decided item has its audit event
    none_of!(
        db,
        "a run ended without its audit event",
        "SELECT r.id FROM runs r WHERE NOT EXISTS (SELECT 1 FROM audit_events a
           WHERE a.run_id = r.id AND a.action = 'run.' || r.status)"
    );
    let item_of_event = match db.backend() {
        app::store::conn::Backend::Sqlite => "json_extract(a.details, '$.item')",
        app::store::conn::Backend::Postgres => "(a.details::json ->> 'item')",
    };
    none_of!(
        db,
        "an item was decided without its audit event",
        &format!(
            "SELECT i.id FROM approval_items i WHERE i.status IN ('approved', 'rejected') AND NOT EXISTS (
               SELECT 1 FROM audit_events a WHERE a.run_id = i.run_id
                 AND a.action IN ('approval.decided', 'approval.deadline')
                 AND {item_of_event} = i.id)"
        )
    );
    none_of!(
        db,
        "an item was cancelled without its audit event",
        "SELECT i.id FROM approval_items i WHERE i.status = 'cancelled' AND i.superseded_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.run_id = i.run_id
             AND a.action = 'approval.cancelled')"
    );
    let mut conn = db.acquire().await.map_err(|e| e.to_string())?;
    let report = app::store::audit::verify(&mut conn, None)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(at) = report.broken_at {
        return Err(format!(
            "the audit chain breaks at {at}: {}",
            report.reason.unwrap_or_default()
        ));
    }
    Ok(())
}
