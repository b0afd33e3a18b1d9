//! Copying a whole instance from one database to another (`stepwise copy`,
//! issue 17): every table the product keeps, in an order that satisfies
//! the foreign keys, each row as it is (ids, times, sealed secrets, the
//! audit trail with its sequence numbers and hashes, so it still
//! verifies). Sessions are not copied: people sign in again.

use super::conn::{self, Conn, Kind, query};
use super::{Db, Result, StoreError};

use Kind::{Bool, Bytes, F64, I64, Text};

/// A table: its name, the columns copied and how each is read, and the
/// order rows are read and written in (a row never refers to a later one).
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// A unique key, in the order rows are read and written.
    pub order: &'static [&'static str],
}

/// Every table, parents before children. `tables_cover_the_schema` checks
/// this against both backends' migrations.
pub const TABLES: &[Table] = &[
    Table {
        name: "instance_meta",
        columns: &[("key", Text), ("value", Text)],
        order: &["key"],
    },
    Table {
        name: "workflows",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("latest_version", I64),
            ("created_at", I64),
            ("created_by", Text),
            ("updated_at", I64),
            ("updated_by", Text),
            ("deleted_at", I64),
            ("deleted_by", Text),
            ("published_version", I64),
            ("published_at", I64),
            ("published_by", Text),
        ],
        order: &["id"],
    },
    Table {
        name: "workflow_versions",
        columns: &[
            ("workflow_id", Text),
            ("version", I64),
            ("definition", Text),
            ("problems", I64),
            ("created_at", I64),
            ("created_by", Text),
        ],
        order: &["workflow_id", "version"],
    },
    Table {
        name: "users",
        columns: &[
            ("id", Text),
            ("username", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("role", Text),
            ("disabled_at", I64),
            ("created_at", I64),
            ("created_by", Text),
            ("updated_at", I64),
        ],
        order: &["id"],
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("token_hash", Text),
            ("role", Text),
            ("created_at", I64),
            ("created_by", Text),
            ("last_used_at", I64),
            ("revoked_at", I64),
        ],
        order: &["id"],
    },
    Table {
        name: "login_failures",
        columns: &[
            ("username", Text),
            ("failures", I64),
            ("last_at", I64),
            ("locked_until", I64),
        ],
        order: &["username"],
    },
    Table {
        name: "secrets",
        columns: &[
            ("name", Text),
            ("sealed", Bytes),
            ("created_at", I64),
            ("created_by", Text),
            ("updated_at", I64),
            ("updated_by", Text),
            ("hosts", Text),
        ],
        order: &["name"],
    },
    Table {
        name: "model_connections",
        columns: &[
            ("name", Text),
            ("config", Text),
            ("updated_at", I64),
            ("updated_by", Text),
        ],
        order: &["name"],
    },
    Table {
        name: "triggers",
        columns: &[
            ("id", Text),
            ("workflow_id", Text),
            ("kind", Text),
            ("name", Text),
            ("path", Text),
            ("spec", Text),
            ("secret", Bytes),
            ("previous_secret", Bytes),
            ("paused", Bool),
            ("paused_reason", Text),
            ("next_nominal", I64),
            ("created_at", I64),
            ("created_by", Text),
            ("updated_at", I64),
        ],
        order: &["id"],
    },
    // a rerun refers to the run it repeats, which was created before it
    Table {
        name: "runs",
        columns: &[
            ("id", Text),
            ("workflow_id", Text),
            ("version", I64),
            ("status", Text),
            ("input", Text),
            ("output", Text),
            ("error", Text),
            ("confidence", F64),
            ("started_by", Text),
            ("created_at", I64),
            ("finished_at", I64),
            ("deadline_at", I64),
            ("rerun_of", Text),
            ("origin", Text),
            ("trigger_id", Text),
            ("parent_run_id", Text),
            ("parent_node_id", Text),
            ("item_index", I64),
            ("item_round", I64),
            ("item_path", Text),
            ("item_root", Text),
        ],
        order: &["created_at", "id"],
    },
    // in insertion order, which a run's steps are listed in
    Table {
        name: "steps",
        columns: &[
            ("run_id", Text),
            ("node_id", Text),
            ("status", Text),
            ("attempt", I64),
            ("not_before", I64),
            ("parked", Bool),
            ("lease_owner", Text),
            ("lease_until", I64),
            ("port", Text),
            ("input_override", Text),
            ("output", Text),
            ("error_class", Text),
            ("error", Text),
            ("confidence", F64),
            ("cum_in", F64),
            ("cum_confidence", F64),
            ("started_at", I64),
            ("finished_at", I64),
            ("finish_seq", I64),
            ("lost", I64),
            ("pass", I64),
            ("lap", I64),
            ("pass_base", I64),
        ],
        order: &["rowid"],
    },
    Table {
        name: "step_attempts",
        columns: &[
            ("run_id", Text),
            ("node_id", Text),
            ("attempt", I64),
            ("worker", Text),
            ("started_at", I64),
            ("finished_at", I64),
            ("input", Text),
            ("output", Text),
            ("outcome", Text),
            ("error_class", Text),
            ("error", Text),
            ("confidence", F64),
            ("pass", I64),
            ("lineage", Text),
            ("model_call", Text),
            ("tokens_in", I64),
            ("tokens_out", I64),
            ("cost", F64),
        ],
        order: &["run_id", "node_id", "attempt"],
    },
    Table {
        name: "step_passes",
        columns: &[
            ("run_id", Text),
            ("node_id", Text),
            ("pass", I64),
            ("status", Text),
            ("port", Text),
            ("output", Text),
            ("confidence", F64),
            ("finished_at", I64),
        ],
        order: &["run_id", "node_id", "pass"],
    },
    Table {
        name: "foreach_items",
        columns: &[
            ("run_id", Text),
            ("node_id", Text),
            ("round", I64),
            ("idx", I64),
            ("item", Text),
        ],
        order: &["run_id", "node_id", "round", "idx"],
    },
    Table {
        name: "approval_items",
        columns: &[
            ("id", Text),
            ("run_id", Text),
            ("node_id", Text),
            ("workflow_id", Text),
            ("workflow_name", Text),
            ("node_name", Text),
            ("reason", Text),
            ("status", Text),
            ("title", Text),
            ("instructions", Text),
            ("roles", Text),
            ("users", Text),
            ("required", I64),
            ("allow_self", Bool),
            ("started_by", Text),
            ("form", Text),
            ("proposed", Text),
            ("context", Text),
            ("deadline_at", I64),
            ("deadline_action", Text),
            ("escalated_to", Text),
            ("created_at", I64),
            ("decided_at", I64),
            ("decided_by", Text),
            ("final_output", Text),
            ("comment", Text),
            ("superseded_at", I64),
            ("current_output", Text),
        ],
        order: &["id"],
    },
    // in insertion order, which an item's decisions are listed in
    Table {
        name: "approval_decisions",
        columns: &[
            ("item_id", Text),
            ("actor", Text),
            ("via", Text),
            ("decision", Text),
            ("comment", Text),
            ("output", Text),
            ("answers", Text),
            ("at", I64),
        ],
        order: &["rowid"],
    },
    Table {
        name: "trigger_events",
        columns: &[
            ("id", I64),
            ("trigger_id", Text),
            ("at", I64),
            ("outcome", Text),
            ("detail", Text),
            ("run_id", Text),
            ("delivery_key", Text),
            ("nominal_at", I64),
        ],
        order: &["id"],
    },
    Table {
        name: "audit_events",
        columns: &[
            ("seq", I64),
            ("at", I64),
            ("actor", Text),
            ("action", Text),
            ("entity", Text),
            ("run_id", Text),
            ("details", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
        order: &["seq"],
    },
];

/// Rows read and written at a time.
const BATCH: usize = 500;

/// How many rows of each table were copied.
pub type Copied = Vec<(&'static str, u64)>;

/// Whether `db` holds anything a person made (an empty instance may hold
/// only its own metadata).
pub async fn is_empty(conn: &mut Conn) -> Result<bool> {
    for t in TABLES.iter().filter(|t| t.name != "instance_meta") {
        let any: Option<i64> =
            conn::query_scalar(format!("SELECT CAST(1 AS BIGINT) FROM {} LIMIT 1", t.name))
                .fetch_optional(conn)
                .await?;
        if any.is_some() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Copies every table of `from` into `to`, which must hold nothing yet
/// (its own metadata is replaced by the source's). The source is read in
/// one snapshot and the target written in one transaction: a copy that
/// fails half-way leaves the target as it was.
pub async fn copy(from: &Db, to: &Db, mut progress: impl FnMut(&str, u64)) -> Result<Copied> {
    let mut src = from.snapshot().await?;
    let mut dst = to.write().await?;
    if !is_empty(&mut dst).await? {
        return Err(StoreError::Conflict(
            "the target database already holds workflows, runs, users or an audit trail; \
             copy into a new, empty database"
                .into(),
        ));
    }
    query("DELETE FROM instance_meta").execute(&mut dst).await?;
    let mut copied = Vec::new();
    for t in TABLES {
        let n = copy_table(t, &mut src, &mut dst, &mut progress).await?;
        copied.push((t.name, n));
    }
    // identities continue after the copied rows
    if to.backend() == conn::Backend::Postgres {
        for (table, column) in [("audit_events", "seq"), ("trigger_events", "id")] {
            query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                               COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            ))
            .execute(&mut dst)
            .await?;
        }
    }
    dst.commit().await?;
    src.rollback().await?;
    Ok(copied)
}

/// One table, a batch at a time, each batch read after the last key of
/// the one before (so a large table is read once, not once per batch).
async fn copy_table(
    t: &Table,
    src: &mut Conn,
    dst: &mut Conn,
    progress: &mut impl FnMut(&str, u64),
) -> Result<u64> {
    let names: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    let key_kinds: Vec<Kind> = t
        .order
        .iter()
        .map(|k| t.columns.iter().find(|c| c.0 == *k).map_or(I64, |c| c.1))
        .collect();
    let kinds: Vec<Kind> = key_kinds
        .iter()
        .chain(t.columns.iter().map(|c| &c.1))
        .copied()
        .collect();
    let key = t.order.join(", ");
    let after: Vec<String> = (1..=t.order.len()).map(|i| format!("${i}")).collect();
    let limit = format!("${}", t.order.len() + 1);
    let first = format!(
        "SELECT {key}, {} FROM {} ORDER BY {key} LIMIT $1",
        names.join(", "),
        t.name
    );
    let next = format!(
        "SELECT {key}, {} FROM {} WHERE ({key}) > ({}) ORDER BY {key} LIMIT {limit}",
        names.join(", "),
        t.name,
        after.join(", ")
    );
    let mut n = 0u64;
    let mut last: Option<Vec<conn::Arg<'static>>> = None;
    loop {
        let q = match &last {
            None => query(first.clone()),
            Some(k) => k
                .iter()
                .cloned()
                .fold(query(next.clone()), |q, v| q.bind(v)),
        };
        let rows = q.bind(BATCH as i64).fetch_values(src, &kinds).await?;
        let Some(tail) = rows.last() else {
            return Ok(n);
        };
        last = Some(tail[..t.order.len()].to_vec());
        let count = rows.len();
        let mut insert = query(format!(
            "INSERT INTO {} ({}) VALUES {}",
            t.name,
            names.join(", "),
            conn::values(count, names.len())
        ));
        for row in rows {
            for v in row.into_iter().skip(t.order.len()) {
                insert = insert.bind(v);
            }
        }
        insert.execute(dst).await?;
        n += count as u64;
        progress(t.name, n);
    }
}
