//! Copying a whole instance from one database to another (`stepwise copy`,
//! issue 17): every table the product keeps, in an order that satisfies
//! the foreign keys, each row as it is (ids, times, sealed secrets, the
//! audit trail with its sequence numbers and hashes, so it still
//! verifies). Sessions are not copied: people sign in again.

use super::conn::{self, Conn, Kind, query};
use super::{Db, Result, StoreError};

use Kind::I64;

mod tables;
pub use tables::{NOT_COPIED, TABLES, Table};

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
