//! Several statements sent together. On SQLite every statement is a
//! message to the connection's own thread and back, and those hand-offs,
//! not SQLite's work, bound the throughput (issue 20): a batch is one
//! message for all of its statements, run in order, each one's rows kept
//! apart. On PostgreSQL the statements run one after another (its
//! extended protocol takes one statement a message).
//!
//! Each statement is written as on its own, with `$N` (or, on SQLite,
//! `?`) placeholders counted from its own first argument; the batch
//! renumbers them.

use super::{AnyRow, AnyValue, Arg, Conn, Query, Side};
use futures_util::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Either, Row};

/// Statements to send together ([`Batch::run`]).
#[derive(Default)]
pub struct Batch<'a> {
    parts: Vec<Query<'a>>,
}

/// What each statement of a batch returned, by the index
/// [`Batch::push`] gave it.
pub struct Results {
    parts: Vec<Part>,
}

struct Part {
    rows: Rows,
    /// Rows changed (a write's; meaningless for a read).
    affected: u64,
}

enum Rows {
    Sqlite(Vec<SqliteRow>),
    Pg(Vec<PgRow>),
}

impl<'a> Batch<'a> {
    pub fn new() -> Batch<'a> {
        Batch::default()
    }

    /// Adds a statement; its results are at the index returned.
    pub fn push(&mut self, q: Query<'a>) -> usize {
        self.parts.push(q);
        self.parts.len() - 1
    }

    /// A batch of one statement.
    pub fn of(q: Query<'a>) -> Batch<'a> {
        Batch { parts: vec![q] }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Runs the statements in order; the first that fails fails the batch
    /// (inside a transaction, the caller rolls it back; outside one, the
    /// statements before it stay done, as they would one by one).
    ///
    /// The first statements of a SQLite write transaction go with its
    /// `BEGIN IMMEDIATE` (see `store::gate`), whose own result is dropped.
    pub async fn run(mut self, conn: &mut Conn) -> Result<Results, sqlx::Error> {
        let opening = match self.parts.is_empty() {
            true => None,
            false => conn.opening(),
        };
        if let Some(begin) = opening {
            self.parts.insert(0, super::query(begin));
        }
        let want = self.parts.len();
        let mut parts = Vec::with_capacity(want);
        match conn.side() {
            Side::Sqlite(c) if want > 0 => {
                let (sql, args) = joined(self.parts)?;
                #[allow(deprecated)] // several statements in one: SQLite's alone
                let mut stream = with_args!(sqlx::query(&sql), args).fetch_many(c);
                let mut rows = Vec::new();
                while let Some(step) = stream.try_next().await? {
                    match step {
                        Either::Left(done) => parts.push(Part {
                            rows: Rows::Sqlite(std::mem::take(&mut rows)),
                            affected: done.rows_affected(),
                        }),
                        Either::Right(row) => rows.push(row),
                    }
                }
                if parts.len() != want {
                    return Err(sqlx::Error::Protocol(format!(
                        "a batch of {want} statements returned {} results",
                        parts.len()
                    )));
                }
                if opening.is_some() {
                    parts.remove(0);
                }
            }
            Side::Sqlite(_) => {}
            Side::Pg(c) => {
                for Query { sql, args } in self.parts {
                    let mut rows = Vec::new();
                    let mut affected = 0;
                    #[allow(deprecated)] // one statement: rows and the count changed
                    let mut stream = with_args!(sqlx::query(&sql), args).fetch_many(&mut *c);
                    while let Some(step) = stream.try_next().await? {
                        match step {
                            Either::Left(done) => affected += done.rows_affected(),
                            Either::Right(row) => rows.push(row),
                        }
                    }
                    parts.push(Part {
                        rows: Rows::Pg(rows),
                        affected,
                    });
                }
            }
        }
        Ok(Results { parts })
    }
}

impl Results {
    /// Statement `i`'s rows, decoded as `T`.
    pub fn rows<T: AnyRow>(&self, i: usize) -> Result<Vec<T>, sqlx::Error> {
        match &self.part(i)?.rows {
            Rows::Sqlite(r) => r.iter().map(T::from_row).collect(),
            Rows::Pg(r) => r.iter().map(T::from_row).collect(),
        }
    }

    /// Statement `i`'s first row, if it returned any.
    pub fn row<T: AnyRow>(&self, i: usize) -> Result<Option<T>, sqlx::Error> {
        Ok(match &self.part(i)?.rows {
            Rows::Sqlite(r) => r.first().map(T::from_row).transpose()?,
            Rows::Pg(r) => r.first().map(T::from_row).transpose()?,
        })
    }

    /// The first column of statement `i`'s first row, if it returned any.
    pub fn scalar<T: AnyValue>(&self, i: usize) -> Result<Option<T>, sqlx::Error> {
        Ok(match &self.part(i)?.rows {
            Rows::Sqlite(r) => r.first().map(|r| r.try_get(0)).transpose()?,
            Rows::Pg(r) => r.first().map(|r| r.try_get(0)).transpose()?,
        })
    }

    /// The first column of each of statement `i`'s rows.
    pub fn scalars<T: AnyValue>(&self, i: usize) -> Result<Vec<T>, sqlx::Error> {
        match &self.part(i)?.rows {
            Rows::Sqlite(r) => r.iter().map(|r| r.try_get(0)).collect(),
            Rows::Pg(r) => r.iter().map(|r| r.try_get(0)).collect(),
        }
    }

    /// The rows statement `i` changed (a write's count).
    pub fn affected(&self, i: usize) -> Result<u64, sqlx::Error> {
        Ok(self.part(i)?.affected)
    }

    fn part(&self, i: usize) -> Result<&Part, sqlx::Error> {
        self.parts
            .get(i)
            .ok_or_else(|| sqlx::Error::Protocol(format!("a batch has no statement {i}")))
    }
}

/// How a statement numbers its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Style {
    /// None at all.
    None,
    /// `?`: bound in the order they appear.
    InOrder,
    /// `$N` or `?N`: the N-th argument.
    Numbered,
}

/// The statements as one SQLite text and its arguments. SQLite binds a
/// `$N` to the N-th argument of the whole text and a `?` to the next in
/// order across its statements (sqlx counts them), so the arguments of
/// the `?` statements come first, in order, and each `$N` statement's
/// numbers are moved past them and past the statements before it.
fn joined(parts: Vec<Query<'_>>) -> Result<(String, Vec<Arg<'_>>), sqlx::Error> {
    let styles: Vec<Style> = parts
        .iter()
        .map(|q| style(&q.sql))
        .collect::<Result<_, _>>()?;
    let in_order: usize = parts
        .iter()
        .zip(&styles)
        .filter(|(_, s)| **s == Style::InOrder)
        .map(|(q, _)| q.args.len())
        .sum();
    let mut sql = String::new();
    let (mut first, mut later) = (Vec::new(), Vec::new());
    for (q, s) in parts.into_iter().zip(styles) {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        let text = q.sql.trim_end().trim_end_matches(';');
        match s {
            Style::Numbered => {
                sql.push_str(&renumbered(text, in_order + later.len()));
                later.extend(q.args);
            }
            Style::InOrder | Style::None => {
                sql.push_str(text);
                first.extend(q.args);
            }
        }
    }
    first.extend(later);
    Ok((sql, first))
}

/// Calls `f` with each placeholder outside quotes and `--` comments: its
/// byte range and its number (None for a bare `?`).
fn placeholders(sql: &str, mut f: impl FnMut(std::ops::Range<usize>, Option<usize>)) {
    let b = sql.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'-' && b.get(i + 1) == Some(&b'-') => {
                // a comment, to the end of its line
                i += b[i..].iter().take_while(|&&d| d != b'\n').count();
                continue;
            }
            None if c == b'$' || c == b'?' => {
                let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
                let n = sql[i + 1..i + 1 + digits].parse().ok();
                if n.is_some() || c == b'?' {
                    f(i..i + 1 + digits, n);
                }
                i += digits;
            }
            None => {}
        }
        i += 1;
    }
}

fn style(sql: &str) -> Result<Style, sqlx::Error> {
    let (mut bare, mut numbered) = (false, false);
    placeholders(sql, |_, n| match n {
        Some(_) => numbered = true,
        None => bare = true,
    });
    match (bare, numbered) {
        (true, true) => Err(sqlx::Error::Protocol(
            "a batched statement mixes `?` and `$N` placeholders".into(),
        )),
        (true, false) => Ok(Style::InOrder),
        (false, true) => Ok(Style::Numbered),
        (false, false) => Ok(Style::None),
    }
}

/// `sql` with each `$N`/`?N` outside quotes made `$(N + by)`.
fn renumbered(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut last = 0;
    placeholders(sql, |at, n| {
        if let Some(n) = n {
            out.push_str(&sql[last..at.start]);
            out.push_str(&format!("${}", n + by));
            last = at.end;
        }
    });
    out.push_str(&sql[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conn::{query, query_as};

    #[test]
    fn numbered_placeholders_move_past_the_arguments_before_them() {
        assert_eq!(
            renumbered("SELECT $1, '$1', \"$2\", ?3 WHERE x = $10", 4),
            "SELECT $5, '$1', \"$2\", $7 WHERE x = $14"
        );
        assert_eq!(
            renumbered("SELECT $1 -- the run's $1\n, $2", 1),
            "SELECT $2 -- the run's $1\n, $3"
        );
        assert_eq!(style("SELECT '?' , $1").unwrap(), Style::Numbered);
        assert_eq!(style("SELECT ?, ?").unwrap(), Style::InOrder);
        assert_eq!(style("SELECT json_extract(x, '$.a')").unwrap(), Style::None);
        assert!(style("SELECT ?, $1").is_err());
    }

    #[test]
    fn in_order_arguments_come_first_and_numbered_ones_follow() {
        let parts = vec![
            query("SELECT $1, $2").bind(1i64).bind(2i64),
            query("SELECT ?, ?").bind(3i64).bind(4i64),
            query("SELECT $2, $1;").bind(5i64).bind(6i64),
        ];
        let (sql, args) = joined(parts).unwrap();
        assert_eq!(sql, "SELECT $3, $4;\nSELECT ?, ?;\nSELECT $6, $5");
        let ints: Vec<i64> = args
            .into_iter()
            .map(|a| match a {
                Arg::I64(Some(v)) => v,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ints, vec![3, 4, 1, 2, 5, 6]);
    }

    #[tokio::test]
    async fn a_batch_returns_each_statements_rows_and_counts_apart() {
        let (db, _dir) = crate::store::test_db().await;
        let mut tx = db.write().await.unwrap();
        query("CREATE TEMPORARY TABLE batch_t (k BIGINT, v TEXT)")
            .execute(&mut tx)
            .await
            .unwrap();
        let mut b = Batch::new();
        let ins = b.push(
            query("INSERT INTO batch_t (k, v) VALUES ($1, $2), ($3, $4)")
                .bind(1i64)
                .bind("one")
                .bind(2i64)
                .bind("two"),
        );
        let none = b.push(query("SELECT k, v FROM batch_t WHERE k > $1").bind(5i64));
        let upd = b.push(
            query("UPDATE batch_t SET v = $1 WHERE k = $2")
                .bind("ONE")
                .bind(1i64),
        );
        let all = b.push(query("SELECT k, v FROM batch_t WHERE k >= $1 ORDER BY k").bind(0i64));
        let n = b.push(query("SELECT COUNT(*) FROM batch_t"));
        let got = b.run(&mut tx).await.unwrap();
        assert_eq!(got.affected(ins).unwrap(), 2);
        assert!(got.rows::<(i64, String)>(none).unwrap().is_empty());
        assert_eq!(got.affected(upd).unwrap(), 1);
        assert_eq!(
            got.rows::<(i64, String)>(all).unwrap(),
            vec![(1, "ONE".to_string()), (2, "two".to_string())]
        );
        assert_eq!(got.scalar::<i64>(n).unwrap(), Some(2));
        assert_eq!(got.row::<(i64, String)>(none).unwrap(), None);
        // what the batch wrote is there for the statements after it
        let after: Vec<(i64, String)> = query_as("SELECT k, v FROM batch_t ORDER BY k")
            .fetch_all(&mut tx)
            .await
            .unwrap();
        assert_eq!(after.len(), 2);
        tx.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn a_failing_statement_fails_the_batch() {
        let (db, _dir) = crate::store::test_db().await;
        let mut conn = db.acquire().await.unwrap();
        let mut b = Batch::new();
        b.push(query("SELECT $1").bind(1i64));
        b.push(query("SELECT * FROM no_such_table"));
        assert!(b.run(&mut conn).await.is_err());
        // the connection still works (a bare 1 is a 4-byte integer on
        // PostgreSQL)
        let one: i64 = crate::store::conn::query_scalar("SELECT CAST(1 AS BIGINT)")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(one, 1);
    }
}
