//! Server functions: the browser's way in. Each one authorizes (once
//! accounts exist), parses, calls `ops`, and maps errors to `AppError`.

pub mod audit;
pub mod runs;
pub mod workflows;

#[cfg(feature = "ssr")]
pub(crate) fn db() -> Result<crate::store::Db, crate::error::AppError> {
    leptos::prelude::use_context::<crate::store::Db>()
        .ok_or_else(|| crate::error::AppError::internal(&"database missing from context"))
}
