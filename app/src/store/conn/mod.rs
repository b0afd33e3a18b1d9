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

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, FromRow, Postgres, Sqlite, Type};
use std::borrow::Cow;
use std::marker::PhantomData;

mod bind;
mod connection;
pub use bind::{Arg, Bind, Placeholders};
use connection::Side;
pub use connection::{Backend, Conn};

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
