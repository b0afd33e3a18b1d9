//! The seam between the store and its two backends (issue 17): a
//! connection or transaction on SQLite or PostgreSQL ([`Conn`]), and
//! queries shaped like sqlx's own (`query`, `query_as`, `query_scalar`,
//! `.bind(..)`, `.execute(conn)`, `.fetch_one(conn)`, ...) that carry their
//! SQL and arguments until they meet a connection and learn which driver
//! is on the other end.
//!
//! Statements are written once, with `$N` placeholders, which both SQLite
//! (through sqlx) and PostgreSQL read. Arguments are typed even when they
//! are NULL ([`Arg`]): PostgreSQL must know a parameter's type, and
//! `$1 IS NULL OR col = $1` gives it none to infer. Rows decode through
//! sqlx's `FromRow`, whose derive is generic over the backend, so one row
//! type serves both.

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, FromRow, Postgres, Sqlite, Transaction, Type};
use std::borrow::Cow;
use std::marker::PhantomData;

mod bind;
pub use bind::{Arg, Bind, Placeholders};

/// Which database a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pooled connection or an open transaction, on either backend.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    /// A read connection lent without sqlx's pool (see `store::readers`).
    SqliteRead(super::readers::Reader),
    /// A read transaction (a snapshot).
    SqliteTx(Transaction<'static, Sqlite>),
    /// A write transaction: the process's write gate and, with it, the
    /// writer connection (see `Db::write` and `store::gate`).
    SqliteWrite(super::db::WriteGate),
    Pg(PoolConnection<Postgres>),
    PgTx(Transaction<'static, Postgres>),
}

/// The driver's own connection under a [`Conn`].
enum Side<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Pg(&'c mut sqlx::PgConnection),
}

impl Conn {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) | Conn::SqliteRead(_) | Conn::SqliteTx(_) | Conn::SqliteWrite(_) => {
                Backend::Sqlite
            }
            Conn::Pg(_) | Conn::PgTx(_) => Backend::Postgres,
        }
    }

    fn side(&mut self) -> Side<'_> {
        match self {
            Conn::Sqlite(c) => Side::Sqlite(c),
            Conn::SqliteRead(c) => Side::Sqlite(c),
            Conn::SqliteTx(t) => Side::Sqlite(t),
            Conn::SqliteWrite(g) => Side::Sqlite(g.writer()),
            Conn::Pg(c) => Side::Pg(c),
            Conn::PgTx(t) => Side::Pg(t),
        }
    }

    /// The process's SQLite write gate, when this transaction holds it.
    pub fn gate(&mut self) -> Option<&mut super::db::WriteGate> {
        match self {
            Conn::SqliteWrite(gate) => Some(gate),
            _ => None,
        }
    }

    /// `r`, noting on a lent read connection that a command failed in a
    /// way that may have broken it (it is closed when given back).
    fn noted<T>(&mut self, r: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let (Err(e), Conn::SqliteRead(c)) = (&r, &mut *self)
            && matches!(
                e,
                sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_)
            )
        {
            c.set_broken();
        }
        r
    }

    /// Whether the next statement sent opens a SQLite write transaction
    /// (and so goes with its `BEGIN`).
    fn opens(&self) -> bool {
        matches!(self, Conn::SqliteWrite(g) if g.opens())
    }

    /// What to send before the statements about to go: the `BEGIN` of a
    /// SQLite write transaction that has sent nothing yet, and the
    /// statements kept to go first (`WriteGate::send_first`).
    fn opening(&mut self) -> Option<(&'static str, Vec<Query<'static>>)> {
        match self {
            Conn::SqliteWrite(g) => g.opening(),
            _ => None,
        }
    }

    /// Sends the `BEGIN` of a SQLite write transaction that has sent
    /// nothing yet, with the statements kept to go first (for statements
    /// that do not go through a batch).
    async fn open(&mut self) -> Result<(), sqlx::Error> {
        if self.send_first().await? {
            return Ok(());
        }
        if let Some((begin, _)) = self.opening()
            && let Side::Sqlite(c) = self.side()
        {
            sqlx::query(begin).execute(c).await?;
        }
        Ok(())
    }

    /// Sends the statements a SQLite write transaction that has sent
    /// nothing yet keeps to go first (`WriteGate::send_first`), with its
    /// `BEGIN`; whether there were any.
    async fn send_first(&mut self) -> Result<bool, sqlx::Error> {
        let first = match self {
            Conn::SqliteWrite(g) if g.opens() => g.take_first(),
            _ => return Ok(false),
        };
        if first.is_empty() {
            return Ok(false);
        }
        let mut b = Batch::new();
        for q in first {
            b.push(q);
        }
        b.run(self).await?;
        Ok(true)
    }

    /// Commits a transaction (a plain connection has nothing to commit).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        // audit events kept to go with the last writes and not sent yet
        if let Err(e) = super::audit::write_pending(&mut self).await {
            return Err(match e {
                super::StoreError::Db(e) => e,
                other => sqlx::Error::Protocol(other.to_string()),
            });
        }
        // statements kept to go first, when nothing was sent with them
        self.send_first().await?;
        match self {
            Conn::SqliteTx(t) => t.commit().await,
            Conn::SqliteWrite(mut g) => {
                g.end("COMMIT").await?;
                g.committed();
                Ok(())
            }
            Conn::PgTx(t) => t.commit().await,
            Conn::Sqlite(_) | Conn::SqliteRead(_) | Conn::Pg(_) => Ok(()),
        }
    }

    /// Rolls a transaction back (dropping it does the same).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Conn::SqliteTx(t) => t.rollback().await,
            Conn::SqliteWrite(mut g) => g.end("ROLLBACK").await,
            Conn::PgTx(t) => t.rollback().await,
            Conn::Sqlite(_) | Conn::SqliteRead(_) | Conn::Pg(_) => Ok(()),
        }
    }
}

/// The result of a statement that returns no rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    rows: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows
    }
}

/// A row type both backends can decode.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A single value both backends can decode.
pub trait AnyValue:
    for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> AnyValue for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

/// SQL text: a literal, a built string, or a statement built once.
pub trait Sql<'a> {
    fn sql(self) -> Cow<'a, str>;
}

impl<'a> Sql<'a> for &'a str {
    fn sql(self) -> Cow<'a, str> {
        Cow::Borrowed(self)
    }
}

impl<'a> Sql<'a> for String {
    fn sql(self) -> Cow<'a, str> {
        Cow::Owned(self)
    }
}

impl<'a> Sql<'a> for &'a String {
    fn sql(self) -> Cow<'a, str> {
        Cow::Borrowed(self.as_str())
    }
}

impl<'a> Sql<'a> for &'a std::sync::LazyLock<String> {
    fn sql(self) -> Cow<'a, str> {
        Cow::Borrowed(self.as_str())
    }
}

/// `($1, $2), ($3, $4)`: the placeholders of `rows` rows of `cols` values
/// for a multi-row `INSERT ... VALUES`.
pub fn values(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A statement and its arguments.
#[derive(Clone)]
pub struct Query<'a> {
    sql: Cow<'a, str>,
    args: Vec<Arg<'a>>,
}

impl Query<'_> {
    /// The same statement, owning its text and arguments (to be built
    /// ahead, before what it borrowed goes).
    pub fn owned(self) -> Query<'static> {
        Query {
            sql: Cow::Owned(self.sql.into_owned()),
            args: self.args.into_iter().map(Arg::owned).collect(),
        }
    }
}

pub fn query<'a>(sql: impl Sql<'a>) -> Query<'a> {
    Query {
        sql: sql.sql(),
        args: Vec::new(),
    }
}

pub fn query_as<'a, T>(sql: impl Sql<'a>) -> QueryAs<'a, T> {
    QueryAs {
        q: query(sql),
        _t: PhantomData,
    }
}

pub fn query_scalar<'a, T>(sql: impl Sql<'a>) -> QueryScalar<'a, T> {
    QueryScalar {
        q: query(sql),
        _t: PhantomData,
    }
}

/// Binds the arguments to a query of the driver `$db` (all in order).
macro_rules! with_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(v),
                Arg::F64(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

// after the macro they use
mod batch;
mod filter;
mod values;
pub use batch::{Batch, Finish, Results};
pub use filter::Where;
pub use values::Kind;

impl<'a> Query<'a> {
    pub fn bind(mut self, v: impl Bind<'a>) -> Self {
        self.args.push(v.arg());
        self
    }

    pub async fn execute(self, conn: &mut Conn) -> Result<Done, sqlx::Error> {
        if conn.opens() {
            // with the transaction's BEGIN (see `Batch::run`)
            let rows = Batch::of(self).run(conn).await?.affected(0)?;
            return Ok(Done { rows });
        }
        let done = match conn.side() {
            Side::Sqlite(c) => with_args!(sqlx::query(&self.sql), self.args)
                .execute(c)
                .await
                .map(|d| d.rows_affected()),
            Side::Pg(c) => with_args!(sqlx::query(&self.sql), self.args)
                .execute(c)
                .await
                .map(|d| d.rows_affected()),
        };
        let rows = conn.noted(done)?;
        Ok(Done { rows })
    }
}

/// Runs a typed query on whichever driver `conn` is: `$make` builds the
/// sqlx query from the SQL, `$fetch` is `fetch_all` or `fetch_optional`.
macro_rules! fetch_on {
    ($q:expr, $conn:expr, $make:path, $fetch:ident) => {{
        let Query { sql, args } = $q;
        let got = match $conn.side() {
            Side::Sqlite(c) => with_args!($make(&sql), args).$fetch(c).await,
            Side::Pg(c) => with_args!($make(&sql), args).$fetch(c).await,
        };
        $conn.noted(got)
    }};
}

/// A typed statement: `bind` and the three ways to fetch, for rows
/// decoded as `T` ([`QueryAs`]) or single values ([`QueryScalar`]);
/// `$all` and `$first` read them from a batch's [`Results`] when the
/// statement goes with its transaction's `BEGIN`.
macro_rules! typed_query {
    ($name:ident, $bound:path, $make:path, $all:ident, $first:ident) => {
        pub struct $name<'a, T> {
            q: Query<'a>,
            _t: PhantomData<T>,
        }

        impl<'a, T: $bound> $name<'a, T> {
            pub fn bind(mut self, v: impl Bind<'a>) -> Self {
                self.q = self.q.bind(v);
                self
            }

            pub async fn fetch_all(self, conn: &mut Conn) -> Result<Vec<T>, sqlx::Error> {
                if conn.opens() {
                    return Batch::of(self.q).run(conn).await?.$all(0);
                }
                fetch_on!(self.q, conn, $make, fetch_all)
            }

            pub async fn fetch_optional(self, conn: &mut Conn) -> Result<Option<T>, sqlx::Error> {
                if conn.opens() {
                    return Batch::of(self.q).run(conn).await?.$first(0);
                }
                fetch_on!(self.q, conn, $make, fetch_optional)
            }

            pub async fn fetch_one(self, conn: &mut Conn) -> Result<T, sqlx::Error> {
                self.fetch_optional(conn)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)
            }
        }
    };
}

typed_query!(QueryAs, AnyRow, sqlx::query_as, rows, row);
typed_query!(QueryScalar, AnyValue, sqlx::query_scalar, scalars, scalar);

#[cfg(test)]
mod tests {
    #[test]
    fn multi_row_placeholders_number_across_rows() {
        assert_eq!(super::values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::values(1, 1), "($1)");
    }
}
