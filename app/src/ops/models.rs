//! Model connections: an admin saves and deletes them (each with its audit
//! event); editors list them to pick one in a step; the engine looks one
//! up by name for each attempt (so a change applies to the next attempt).

use crate::domain::audit::NewAuditEvent;
use crate::domain::llm::ModelConnection;
use crate::error::AppError;
use crate::store::{Db, StoreError, audit, models as store};
use serde_json::json;

pub const CONNECTION_SAVED: &str = "model_connection.saved";
pub const CONNECTION_DELETED: &str = "model_connection.deleted";

/// Saves `c` (new or changed) after checking every field and that its API
/// key secret exists.
pub async fn save(db: &Db, actor: &str, mut c: ModelConnection, now: i64) -> Result<(), AppError> {
    c.name = c.name.trim().to_string();
    c.base_url = c.base_url.trim().to_string();
    c.model = c.model.trim().to_string();
    c.api_key_secret = c
        .api_key_secret
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let problems = c.problems();
    if !problems.is_empty() {
        return Err(AppError::bad_request(problems.join("; ")));
    }
    let mut tx = db.write().await?;
    if let Some(secret) = &c.api_key_secret {
        crate::ops::secrets::check_secret_name(secret)?;
        let known = crate::store::accounts::list_secrets(&mut tx).await?;
        if !known.iter().any(|s| &s.name == secret) {
            return Err(AppError::bad_request(format!(
                "there is no secret named {secret}; create it first (Settings → Secrets), with the API's host among its allowed hosts"
            )));
        }
    }
    store::put(&mut tx, &c, actor, now).await?;
    audit::append(
        &mut tx,
        &NewAuditEvent::new(
            now,
            actor,
            CONNECTION_SAVED,
            format!("model_connection:{}", c.name),
            json!({"name": c.name, "base_url": c.base_url, "model": c.model, "api_key_secret": c.api_key_secret}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn delete(db: &Db, actor: &str, name: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    store::delete(&mut tx, name).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found(format!("no model connection named '{name}'")),
        e => e.into(),
    })?;
    audit::append(
        &mut tx,
        &NewAuditEvent::new(
            now,
            actor,
            CONNECTION_DELETED,
            format!("model_connection:{name}"),
            json!({"name": name}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<ModelConnection>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(store::list(&mut conn).await?)
}

pub async fn get(db: &Db, name: &str) -> Result<Option<ModelConnection>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(store::get(&mut conn, name).await?)
}
