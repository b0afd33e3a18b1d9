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

/// Saves a connection given as JSON text (new, or replacing the one of the
/// same name).
#[server(prefix = "/rpc", endpoint = "save_model_connection")]
pub async fn save_model_connection(connection: String) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage model connections")?;
    let c: ModelConnection = serde_json::from_str(&connection).map_err(|e| {
        super::failed(AppError::bad_request(format!(
            "the connection is not valid: {e}"
        )))
    })?;
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
