use crate::domain::audit::{AuditEvent, AuditFilter, VerifyReport};
#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::error::AppError;
use leptos::prelude::*;

/// The newest audit events (up to 200) matching `filter`.
#[server(prefix = "/rpc", endpoint = "list_audit_events")]
pub async fn list_audit_events(
    #[server(default)] filter: AuditFilter,
) -> Result<Vec<AuditEvent>, AppError> {
    super::require(Permission::Read, "see the audit trail")?;
    use crate::store::StoreError;
    let db = super::db()?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(crate::store::audit::search(&mut conn, &filter.cleaned(), 200).await?)
}

/// Recomputes the hash chain and names the first broken link; `anchor`
/// (`seq:hash` from an earlier verify, empty for none) must still be there.
#[server(prefix = "/rpc", endpoint = "verify_audit")]
pub async fn verify_audit(#[server(default)] anchor: String) -> Result<VerifyReport, AppError> {
    super::require(Permission::Read, "see the audit trail")?;
    use crate::store::StoreError;
    let anchor = match anchor.trim() {
        "" => None,
        a => Some(crate::domain::audit::Anchor::parse(a).map_err(AppError::bad_request)?),
    };
    let db = super::db()?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(crate::store::audit::verify(&mut conn, anchor.as_ref()).await?)
}
