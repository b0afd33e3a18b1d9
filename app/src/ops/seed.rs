//! Seeds the example workflow into a new instance, once.

use super::workflows;
use crate::domain::audit::Actor;
use crate::domain::example::{EXAMPLE_NAME, invoice_approval};
use crate::error::AppError;
use crate::store::{Db, StoreError, set_meta};

const SEEDED: &str = "example_seeded";

/// Creates the example workflow unless this instance was seeded before
/// (deleting the example must not bring it back on the next start).
pub async fn seed_example(db: &Db, now: i64) -> Result<bool, AppError> {
    if db.meta(SEEDED).await?.is_some() {
        return Ok(false);
    }
    let existing = workflows::list(db).await?;
    if existing.is_empty() {
        workflows::create(db, &Actor::system(), EXAMPLE_NAME, &invoice_approval(), false, now).await?;
    }
    let mut conn = db.pool.acquire().await.map_err(StoreError::from)?;
    set_meta(&mut conn, SEEDED, &now.to_string()).await?;
    Ok(existing.is_empty())
}
