//! The user-safe error at every boundary (server functions and REST): a
//! stable code, a message that says what to fix, and for invalid workflows
//! the list of problems. Internal causes are logged with a reference id and
//! never shown.

use crate::domain::Problem;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    /// Not signed in, or an unknown or revoked API token.
    Unauthorized,
    /// Signed in, but the role does not allow it.
    Forbidden,
    NotFound,
    Conflict,
    InvalidWorkflow,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::InvalidWorkflow | ErrorCode::InvalidInput => 422,
            ErrorCode::Internal => 500,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            problems: vec![],
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            ErrorCode::Unauthorized,
            "sign in first (or send an API token as 'Authorization: Bearer <token>')",
        )
    }
    pub fn forbidden(what: &str, role: crate::domain::auth::Role) -> Self {
        Self::new(
            ErrorCode::Forbidden,
            format!("your role ({role}) may not {what}; ask an admin for a role that may"),
        )
    }
    pub fn invalid_workflow(problems: Vec<Problem>) -> Self {
        let n = problems.len();
        AppError {
            code: ErrorCode::InvalidWorkflow,
            message: format!(
                "the workflow has {n} problem{}; fix {} and save again",
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them" }
            ),
            problems,
        }
    }

    /// An internal failure: the cause goes to the log under a reference the
    /// user can quote; the user sees only the reference.
    #[cfg(feature = "ssr")]
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_string();
        tracing::error!(%reference, error = %cause, "internal error");
        Self::new(
            ErrorCode::Internal,
            format!(
                "something went wrong on the server (reference {reference}); nothing was changed"
            ),
        )
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        AppError::new(ErrorCode::BadRequest, value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::NotFound => AppError::not_found("not found"),
            StoreError::Conflict(m) => AppError::new(ErrorCode::Conflict, m),
            other => AppError::internal(&other),
        }
    }
}
