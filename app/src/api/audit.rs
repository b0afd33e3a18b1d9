use crate::domain::audit::AuditEvent;
#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::error::AppError;
use leptos::prelude::*;

/// The newest audit events (up to 200).
#[server(prefix = "/rpc", endpoint = "list_audit_events")]
pub async fn list_audit_events() -> Result<Vec<AuditEvent>, AppError> {
    super::require(Permission::Read, "see the audit trail")?;
    use crate::store::StoreError;
    let db = super::db()?;
    let mut conn = db.pool.acquire().await.map_err(StoreError::from)?;
    Ok(crate::store::audit::list(&mut conn, None, 200).await?)
}
