//! Which version of a workflow a caller means, and its number.

use super::super::{Result, StoreError};

/// Which version of a workflow to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pick {
    Latest,
    /// The published version, or the latest when none is.
    Published,
    Version(i64),
}

/// `None` the latest, `Some(v)` version `v`.
impl From<Option<i64>> for Pick {
    fn from(v: Option<i64>) -> Pick {
        v.map_or(Pick::Latest, Pick::Version)
    }
}

impl Pick {
    /// The version asked for by number, if one was.
    pub fn number(self) -> Option<i64> {
        match self {
            Pick::Version(v) => Some(v),
            Pick::Latest | Pick::Published => None,
        }
    }
}

/// The number of the version `pick` names in the live workflow `id`
/// (NotFound if the workflow is gone; an explicit version is not checked
/// here, but where its definition is read).
pub async fn version_of(conn: &mut crate::store::conn::Conn, id: &str, pick: Pick) -> Result<i64> {
    let row: Option<(Option<i64>,)> = crate::store::conn::query_as(NAMED)
        .bind(id)
        .bind(pick.number())
        .bind(pick == Pick::Published)
        .fetch_optional(conn)
        .await?;
    row.and_then(|(v,)| v).ok_or(StoreError::NotFound)
}

/// The version `$2` (or, with `$3`, the published, else the latest) of
/// the live workflow `$1`: no row when the workflow is gone.
const NAMED: &str =
    "SELECT COALESCE($2, CASE WHEN $3 THEN w.published_version END, w.latest_version)
         FROM workflows w WHERE w.id = $1 AND w.deleted_at IS NULL";

/// A SQLite statement that fails the transaction it runs in unless `pick`
/// of the live workflow `id` names `version` there (a start prepared for
/// the version last read confirms it where it is written, see
/// `ops::runs::prepare_ahead`). Its failure is not told apart from
/// others': the caller reads the version again to know.
pub fn still_names(id: &str, pick: Pick, version: i64) -> crate::store::conn::Query<'static> {
    // json() of what is not JSON fails, as a batch's guard does
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT json(CASE WHEN ({NAMED}) IS $4 THEN '0' ELSE 'renamed' END)")
    });
    crate::store::conn::query(&SQL)
        .bind(id.to_string())
        .bind(pick.number())
        .bind(pick == Pick::Published)
        .bind(version)
}
