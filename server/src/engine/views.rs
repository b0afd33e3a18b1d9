//! Runs a REST start ended, as the transaction that wrote them left them,
//! kept for the `GET /runs/{id}` that usually follows.
//!
//! A client that starts a run (202) and then asks for it used to cost the
//! server a read on a reader connection: a round trip to that
//! connection's thread and back, and the rows decoded again. A run whose
//! opening ended it is read in its own transaction instead (the
//! statements a synchronous start answers with), serialized once, and
//! kept here with [`app::store::Db::runs_touched`] as that transaction
//! saw it. A kept answer is given only while that count is unchanged:
//! every turn at the write gate that may change a run that exists (a
//! retry, a rename of its workflow, retention, a deletion) raises it
//! first, so nothing kept outlives a change; the transactions that only
//! insert new runs leave it. On PostgreSQL, where other processes write
//! too, nothing is kept.

use app::domain::records::RunDetail;
use app::store::remembered::Remembered;
use axum::body::Bytes;

/// How many answers are kept at most (the least recently used go first).
const KEEP: usize = 64;

/// The largest answer kept: larger ones are read again when asked for, so
/// what is kept stays under `KEEP` × this (4 MiB).
const MAX_BYTES: usize = 64 * 1024;

/// A run as the transaction that started it left it, with
/// [`app::store::Db::runs_touched`] as that transaction saw it.
pub struct Viewed {
    pub run: RunDetail,
    pub as_of: Option<u64>,
}

/// One kept answer.
#[derive(Clone)]
struct Kept {
    as_of: u64,
    body: Bytes,
}

/// The kept answers, by run id.
pub struct EndedViews {
    kept: Remembered<String, Kept>,
}

impl Default for EndedViews {
    fn default() -> Self {
        EndedViews {
            kept: Remembered::new(KEEP),
        }
    }
}

impl EndedViews {
    /// Keeps `viewed` as `GET /runs/{id}` answers it (its JSON), unless it
    /// is larger than [`MAX_BYTES`] or was not read on SQLite.
    pub fn keep(&self, viewed: &Viewed) {
        let Some(as_of) = viewed.as_of else {
            return;
        };
        let Ok(body) = serde_json::to_vec(&viewed.run) else {
            return;
        };
        if body.len() <= MAX_BYTES {
            let kept = Kept {
                as_of,
                body: Bytes::from(body),
            };
            self.kept.put(viewed.run.run.id.as_str().to_string(), kept);
        }
    }

    /// The kept answer for run `id`, when nothing that may have changed it
    /// was written since it was read (`now`: `Db::runs_touched` now).
    pub fn get(&self, id: &str, now: Option<u64>) -> Option<Bytes> {
        let kept = self.kept.get(&id.to_string())?;
        (Some(kept.as_of) == now).then_some(kept.body)
    }

    /// How many answers are kept (for tests).
    pub fn count(&self) -> usize {
        self.kept.len()
    }
}
