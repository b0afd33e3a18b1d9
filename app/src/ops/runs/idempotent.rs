//! API starts with an `Idempotency-Key`: a client that retries after a
//! lost answer gets the run its first request started, never two.

use super::start::{Via, insert_prepared, prepare_run};
use crate::domain::audit::Actor;
use crate::domain::ids::RunId;
use crate::error::{AppError, ErrorCode};
use crate::store::{Db, runs};
use serde_json::Value;

/// The run an API start with an `Idempotency-Key` gave: a new one, or the
/// one a former request with the same key started (`replayed`).
#[derive(Clone, Debug, PartialEq)]
pub struct Started {
    pub run_id: RunId,
    pub replayed: bool,
}

/// Longest `Idempotency-Key`, in characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// An API start (or chaos start) with an `Idempotency-Key`: the first
/// request with `key` for this workflow starts the run; a repeat returns
/// that run and starts nothing; a repeat with another input is refused,
/// since the key then names two different requests. Keys are kept as long
/// as their run is (retention forgets them with it).
#[allow(clippy::too_many_arguments)]
pub async fn start_once(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    version: crate::store::workflows::Pick,
    input: &Value,
    chaos: Option<&crate::domain::chaos::ChaosPlan>,
    key: &str,
    now: i64,
) -> Result<Started, AppError> {
    if key.is_empty()
        || key.chars().count() > MAX_IDEMPOTENCY_KEY
        || !key.chars().all(|c| c.is_ascii_graphic() || c == ' ')
    {
        return Err(AppError::bad_request(format!(
            "the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters (a UUID is a good choice)"
        )));
    }
    let earlier = |db: &Db| {
        let db = db.clone();
        async move {
            let mut conn = db.acquire().await?;
            runs::run_by_key(&mut conn, workflow_id, key).await
        }
    };
    let replay = |(run_id, first): (RunId, Value)| {
        if &first != input {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "this Idempotency-Key already started run {run_id} with another input; use a new key for a new request"
                ),
            ));
        }
        Ok(Started {
            run_id,
            replayed: true,
        })
    };
    if let Some(found) = earlier(db).await? {
        return replay(found);
    }
    let prepared = prepare_run(
        db,
        actor,
        workflow_id,
        version,
        input,
        Via::Api,
        chaos,
        Some(key),
        now,
    )
    .await;
    let started = match prepared {
        Ok(rows) => insert_prepared(db, rows).await,
        Err(e) => Err(e),
    };
    match started {
        Ok(run_id) => Ok(Started {
            run_id,
            replayed: false,
        }),
        // two requests with the key at once: the other one's run stands
        Err(e) => match earlier(db).await? {
            Some(found) => replay(found),
            None => Err(e),
        },
    }
}
