//! The API's own description, for the reference page.

use crate::error::AppError;
use leptos::prelude::*;

/// The OpenAPI document, provided by the server (it is built from the
/// server's route table).
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct ApiDoc(pub std::sync::Arc<serde_json::Value>);

/// The OpenAPI document (public, like `/api/v1/openapi.json`).
#[server(prefix = "/rpc", endpoint = "api_document")]
pub async fn api_document() -> Result<serde_json::Value, AppError> {
    use_context::<ApiDoc>()
        .map(|d| (*d.0).clone())
        .ok_or_else(|| AppError::internal(&"the API document is missing from the context"))
}
