//! Rows read as typed values whatever their table (for copying a whole
//! instance between backends, `store::copy`), and arguments re-bound as
//! they were read.

use super::{Arg, Bind, Conn, Query, Side};
use sqlx::Row;
use std::borrow::Cow;

/// The type a column is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    I64,
    F64,
    Bool,
    Text,
    Bytes,
}

impl<'a> Bind<'a> for Arg<'a> {
    fn arg(self) -> Arg<'a> {
        self
    }
    fn null() -> Arg<'a> {
        Arg::Text(None)
    }
}

macro_rules! read_row {
    ($row:expr, $kinds:expr) => {{
        let row = $row;
        let mut out = Vec::with_capacity($kinds.len());
        for (i, k) in $kinds.iter().enumerate() {
            out.push(match k {
                Kind::I64 => Arg::I64(row.try_get::<Option<i64>, _>(i)?),
                Kind::F64 => Arg::F64(row.try_get::<Option<f64>, _>(i)?),
                Kind::Bool => Arg::Bool(row.try_get::<Option<bool>, _>(i)?),
                Kind::Text => Arg::Text(row.try_get::<Option<String>, _>(i)?.map(Cow::Owned)),
                Kind::Bytes => Arg::Bytes(row.try_get::<Option<Vec<u8>>, _>(i)?),
            });
        }
        out
    }};
}

impl<'a> Query<'a> {
    /// Every row, its columns read in order as `kinds` says.
    pub async fn fetch_values(
        self,
        conn: &mut Conn,
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Arg<'static>>>, sqlx::Error> {
        let Query { sql, args } = self;
        let mut out = Vec::new();
        conn.open().await?;
        match conn.side() {
            Side::Sqlite(c) => {
                let rows = with_args!(sqlx::query(&sql), args).fetch_all(c).await;
                for row in conn.noted(rows)? {
                    out.push(read_row!(row, kinds));
                }
            }
            Side::Pg(c) => {
                for row in with_args!(sqlx::query(&sql), args).fetch_all(c).await? {
                    out.push(read_row!(row, kinds));
                }
            }
        }
        Ok(out)
    }
}
