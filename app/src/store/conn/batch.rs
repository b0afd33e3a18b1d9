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
//!
//! A statement can be guarded: it must change exactly so many rows, or
//! the batch stops after it (nothing after it runs, and a transaction
//! stays open for the caller to decide). That lets a batch end with its
//! transaction's `COMMIT` ([`Batch::commit`]) and still never commit a
//! write whose guard failed: on SQLite the check is a statement of the
//! batch itself, which fails when `changes()` differs.

use super::{AnyRow, AnyValue, Arg, Conn, Query, Side};
use futures_util::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Either, Row};

#[path = "batch_sql.rs"]
mod sql;

/// Statements to send together ([`Batch::run`]).
#[derive(Default)]
pub struct Batch<'a> {
    parts: Vec<Query<'a>>,
    /// For each statement, the rows it must change (None: unguarded).
    guards: Vec<Option<u64>>,
}

/// What each statement of a batch returned, by the index
/// [`Batch::push`] gave it.
pub struct Results {
    parts: Vec<Part>,
    /// The guarded statement that changed other than its rows: the
    /// batch stopped after it.
    stopped: Option<usize>,
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

/// What [`Batch::commit`] left.
pub enum Finish {
    /// Every statement ran and the transaction committed.
    Committed(Results),
    /// A guard stopped the batch: the transaction is open, with what ran
    /// before the stop, for the caller to mend and commit (or drop).
    Open(Conn, Results),
}

/// What SQLite is sent, statement by statement, around a batch's own.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sent {
    Begin,
    /// A statement kept to go with the `BEGIN` (`WriteGate::send_first`).
    First,
    Part,
    /// The check after guarded statement `i`.
    Guard(usize),
    Commit,
}

impl<'a> Batch<'a> {
    pub fn new() -> Batch<'a> {
        Batch::default()
    }

    /// Adds a statement; its results are at the index returned.
    pub fn push(&mut self, q: Query<'a>) -> usize {
        self.parts.push(q);
        self.guards.push(None);
        self.parts.len() - 1
    }

    /// Adds a statement that must change exactly `rows` rows, or the
    /// batch stops after it ([`Results::stopped`]).
    pub fn push_guarded(&mut self, q: Query<'a>, rows: u64) -> usize {
        let i = self.push(q);
        self.guards[i] = Some(rows);
        i
    }

    /// A batch of one statement.
    pub fn of(q: Query<'a>) -> Batch<'a> {
        let mut b = Batch::new();
        b.push(q);
        b
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Runs the statements in order; the first that fails fails the batch
    /// (inside a transaction, the caller rolls it back; outside one, the
    /// statements before it stay done, as they would one by one). A
    /// guard that fails stops it ([`Results::stopped`]).
    ///
    /// The first statements of a SQLite write transaction go with its
    /// `BEGIN IMMEDIATE` (see `store::gate`), whose own result is dropped.
    pub async fn run(self, conn: &mut Conn) -> Result<Results, sqlx::Error> {
        let done = self.send(conn, false).await;
        conn.noted(done)
    }

    /// Runs the statements, then commits `tx` unless a guard stopped
    /// them. On the SQLite writer the `COMMIT` goes in the same message
    /// (after every guard's check, so a failed guard commits nothing).
    pub async fn commit(self, mut tx: Conn) -> Result<Finish, sqlx::Error> {
        let folded = !self.is_empty() && tx.gate().is_some_and(|g| g.can_commit_in_batch());
        let done = self.send(&mut tx, folded).await?;
        if done.stopped.is_some() {
            return Ok(Finish::Open(tx, done));
        }
        match (folded, tx.gate()) {
            (true, Some(g)) => g.committed_in_batch(),
            _ => tx.commit().await?,
        }
        Ok(Finish::Committed(done))
    }

    async fn send(mut self, conn: &mut Conn, commit: bool) -> Result<Results, sqlx::Error> {
        let opening = match self.parts.is_empty() {
            true => None,
            false => conn.opening(),
        };
        let mut parts = Vec::with_capacity(self.parts.len());
        let mut stopped = None;
        match conn.side() {
            Side::Sqlite(c) if !self.parts.is_empty() => {
                let mut sent = Vec::with_capacity(self.parts.len() + 2);
                let mut queries = Vec::with_capacity(self.parts.len() + 2);
                if let Some((begin, first)) = opening {
                    sent.push(Sent::Begin);
                    queries.push(super::query(begin));
                    for q in first {
                        sent.push(Sent::First);
                        queries.push(q);
                    }
                }
                for (i, (q, guard)) in self.parts.drain(..).zip(&self.guards).enumerate() {
                    sent.push(Sent::Part);
                    queries.push(q);
                    if let Some(rows) = guard {
                        sent.push(Sent::Guard(i));
                        queries.push(super::query(sql::guard(*rows)));
                    }
                }
                if commit {
                    sent.push(Sent::Commit);
                    queries.push(super::query("COMMIT"));
                }
                let (text, args) = sql::joined(queries)?;
                #[allow(deprecated)] // several statements in one: SQLite's alone
                let mut stream = with_args!(sqlx::query(&text), args).fetch_many(c);
                let mut got = Vec::with_capacity(sent.len());
                let mut rows = Vec::new();
                loop {
                    match stream.try_next().await {
                        Ok(Some(Either::Left(done))) => got.push(Part {
                            rows: Rows::Sqlite(std::mem::take(&mut rows)),
                            affected: done.rows_affected(),
                        }),
                        Ok(Some(Either::Right(row))) => rows.push(row),
                        Ok(None) => break,
                        // the check after a guarded statement failed: the
                        // batch stops there, its transaction still open
                        Err(e) => match sent.get(got.len()) {
                            Some(Sent::Guard(i)) => {
                                stopped = Some(*i);
                                break;
                            }
                            _ => return Err(e),
                        },
                    }
                }
                if stopped.is_none() && got.len() != sent.len() {
                    return Err(sqlx::Error::Protocol(format!(
                        "a batch of {} statements returned {} results",
                        sent.len(),
                        got.len()
                    )));
                }
                parts.extend(
                    got.into_iter()
                        .zip(sent)
                        .filter(|(_, s)| *s == Sent::Part)
                        .map(|(p, _)| p),
                );
            }
            Side::Sqlite(_) => {}
            Side::Pg(c) => {
                for (i, (Query { sql, args }, guard)) in
                    self.parts.into_iter().zip(self.guards).enumerate()
                {
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
                    if guard.is_some_and(|g| g != affected) {
                        stopped = Some(i);
                        break;
                    }
                }
            }
        }
        Ok(Results { parts, stopped })
    }
}

impl Results {
    /// The guarded statement whose guard failed, when one did: the batch
    /// stopped after it, and nothing after it ran.
    pub fn stopped(&self) -> Option<usize> {
        self.stopped
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conn::{query, query_as};

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

#[cfg(test)]
#[path = "batch_guard_tests.rs"]
mod guard_tests;

#[cfg(test)]
#[path = "batch_first_tests.rs"]
mod first_tests;
