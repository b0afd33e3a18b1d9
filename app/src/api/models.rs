//! Model connections for the Settings page (admins change them) and the
//! LLM step's inspector (editors pick one).

#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::domain::llm::ModelConnection;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_model_connections")]
pub async fn list_model_connections() -> Result<Vec<ModelConnection>, AppError> {
    super::require(Permission::EditWorkflows, "see model connections")?;
    crate::ops::models::list(&super::db()?)
        .await
        .map_err(super::failed)
}

/// Saves a connection from the Settings form (new, or replacing the one
/// of the same name). Prices and the timeout are text: empty is none (the
/// timeout's default), anything else must be a number.
#[server(prefix = "/rpc", endpoint = "save_model_connection")]
pub async fn save_model_connection(
    name: String,
    base_url: String,
    model: String,
    #[server(default)] api_key_secret: String,
    #[server(default)] price_in_per_1k: String,
    #[server(default)] price_out_per_1k: String,
    #[server(default)] timeout_seconds: String,
) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage model connections")?;
    let number = |what: &str, v: &str| -> Result<Option<f64>, AppError> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<f64>().map(Some).map_err(|_| {
            super::failed(AppError::bad_request(format!(
                "{what} is a number, not '{v}'"
            )))
        })
    };
    let timeout_ms = number("the timeout", &timeout_seconds)?
        .map(|s| (s * 1000.0).round().clamp(0.0, u64::MAX as f64) as u64)
        .unwrap_or(crate::domain::llm::connection::DEFAULT_TIMEOUT_MS);
    let c = ModelConnection {
        name,
        base_url,
        model,
        api_key_secret: Some(api_key_secret).filter(|s| !s.trim().is_empty()),
        price_in_per_1k: number("the price per 1,000 prompt tokens", &price_in_per_1k)?,
        price_out_per_1k: number("the price per 1,000 answer tokens", &price_out_per_1k)?,
        timeout_ms,
    };
    crate::ops::models::save(&super::db()?, &who.actor, c, crate::ops::now_ms())
        .await
        .map_err(super::failed)
}

#[server(prefix = "/rpc", endpoint = "delete_model_connection")]
pub async fn delete_model_connection(name: String) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage model connections")?;
    crate::ops::models::delete(&super::db()?, &who.actor, &name, crate::ops::now_ms())
        .await
        .map_err(super::failed)
}
