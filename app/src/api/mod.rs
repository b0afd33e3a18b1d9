//! Server functions: the browser's way in. Each one authorizes (once
//! accounts exist), parses, calls `ops`, and maps errors to `AppError`.

pub mod accounts;
pub mod approvals;
pub mod audit;
pub mod golden;
pub mod models;
pub mod monitoring;
pub mod notify;
pub mod reference;
pub mod runs;
pub mod triggers;
pub mod workflows;

#[cfg(feature = "ssr")]
pub(crate) fn db() -> Result<crate::store::Db, crate::error::AppError> {
    leptos::prelude::use_context::<crate::store::Db>()
        .ok_or_else(|| crate::error::AppError::internal(&"database missing from context"))
}

/// Who sent the request, as the server's authentication middleware found
/// it (a session or an API token); None when nobody is signed in.
#[derive(Clone, Debug, Default)]
pub struct Caller(pub Option<crate::domain::auth::Principal>);

/// Allows `caller` to do `what` if their role has `perm`: no caller is 401,
/// a role without the permission is 403.
pub fn authorize(
    caller: Option<&crate::domain::auth::Principal>,
    perm: crate::domain::auth::Permission,
    what: &str,
) -> Result<crate::domain::auth::Principal, crate::error::AppError> {
    match caller {
        None => Err(crate::error::AppError::unauthorized()),
        Some(p) if p.can(perm) => Ok(p.clone()),
        Some(p) => Err(crate::error::AppError::forbidden(what, p.role)),
    }
}

/// The caller of this server function, if signed in.
#[cfg(feature = "ssr")]
pub(crate) fn caller() -> Option<crate::domain::auth::Principal> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .and_then(|c| c.0)
}

/// Authorizes this server function's caller; a refusal also sets the
/// response status (401 or 403), as the REST API would.
#[cfg(feature = "ssr")]
pub(crate) fn require(
    perm: crate::domain::auth::Permission,
    what: &str,
) -> Result<crate::domain::auth::Principal, crate::error::AppError> {
    authorize(caller().as_ref(), perm, what).map_err(failed)
}

/// The designer's working copy, sent as JSON text.
#[cfg(feature = "ssr")]
pub(crate) fn working_copy(
    definition: &str,
) -> Result<crate::domain::WorkflowDef, crate::error::AppError> {
    serde_json::from_str(definition).map_err(|e| {
        failed(crate::error::AppError::bad_request(format!(
            "the working copy is not a workflow definition: {e}"
        )))
    })
}

/// Sets the response status of a server function that fails with `e`.
#[cfg(feature = "ssr")]
pub(crate) fn failed(e: crate::error::AppError) -> crate::error::AppError {
    if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(
            axum::http::StatusCode::from_u16(e.code.http_status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    e
}
