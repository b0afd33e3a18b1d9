//! A page of a list, as the REST API and the pages ask for one.

use serde::{Deserialize, Serialize};

/// A page of a list: at most `limit` entries after skipping `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    pub limit: i64,
    pub offset: i64,
}

impl Paging {
    /// The most one page holds.
    pub const MAX_LIMIT: i64 = 500;

    /// The first `MAX_LIMIT` entries (what the pages show).
    pub const FIRST: Paging = Paging {
        limit: Self::MAX_LIMIT,
        offset: 0,
    };

    /// A page as asked for (`limit` defaulting to `default`), or what is
    /// wrong with it.
    pub fn of(limit: Option<i64>, offset: Option<i64>, default: i64) -> Result<Paging, String> {
        let limit = limit.unwrap_or(default);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(format!(
                "limit must be 1 to {}, not {limit}",
                Self::MAX_LIMIT
            ));
        }
        let offset = offset.unwrap_or(0);
        if !(0..=1_000_000_000).contains(&offset) {
            return Err(format!("offset must be 0 or more, not {offset}"));
        }
        Ok(Paging { limit, offset })
    }

    /// Where the next page starts, when this one came back full.
    pub fn next(&self, got: usize) -> Option<i64> {
        (got as i64 == self.limit).then_some(self.offset + self.limit)
    }
}
