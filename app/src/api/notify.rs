//! The admin's notification settings: the mail server, each person's
//! address and preference, a test message, and the outbox.

#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::domain::notify::{OutboxEntry, SmtpSettings};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "get_smtp")]
pub async fn get_smtp() -> Result<Option<SmtpSettings>, AppError> {
    super::require(Permission::Administer, "manage notifications")?;
    crate::ops::notify::smtp_settings(&super::db()?)
        .await
        .map_err(super::failed)
}

/// Saves the mail server (every field as typed; blank optional ones are
/// none).
#[server(prefix = "/rpc", endpoint = "save_smtp")]
pub async fn save_smtp(
    host: String,
    port: String,
    security: String,
    username: String,
    password_secret: String,
    from: String,
) -> Result<(), AppError> {
    use crate::domain::notify::SmtpSecurity;
    let who = super::require(Permission::Administer, "manage notifications")?;
    let port: u16 = port.trim().parse().map_err(|_| {
        super::failed(AppError::bad_request(format!(
            "port must be a number from 1 to 65535 (usually 587, 465 or 25), not '{port}'"
        )))
    })?;
    let settings = SmtpSettings {
        host,
        port,
        security: SmtpSecurity::parse(&security)
            .map_err(|e| super::failed(AppError::bad_request(e)))?,
        username: Some(username),
        password_secret: Some(password_secret),
        from,
    };
    crate::ops::notify::set_smtp(
        &super::db()?,
        &who.actor,
        Some(settings),
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)
}

/// Forgets the mail server: nothing is emailed until one is saved again.
#[server(prefix = "/rpc", endpoint = "clear_smtp")]
pub async fn clear_smtp() -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage notifications")?;
    crate::ops::notify::set_smtp(&super::db()?, &who.actor, None, crate::ops::now_ms())
        .await
        .map_err(super::failed)
}

/// Queues a test message to `to`; the outbox shows how it went.
#[server(prefix = "/rpc", endpoint = "send_test_email")]
pub async fn send_test_email(to: String) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage notifications")?;
    crate::ops::notify::queue_test_email(&super::db()?, &who.actor, &to, crate::ops::now_ms())
        .await
        .map_err(super::failed)
}

/// Sets where a person's notifications go (blank: nowhere) and how often
/// (`each`, `digest` or `off`).
#[server(prefix = "/rpc", endpoint = "set_contact")]
pub async fn set_contact(id: String, email: String, notify: String) -> Result<(), AppError> {
    use crate::domain::notify::NotifyPref;
    let who = super::require(Permission::Administer, "manage users")?;
    let pref = NotifyPref::parse(&notify).map_err(|e| super::failed(AppError::bad_request(e)))?;
    crate::ops::notify::set_contact(
        &super::db()?,
        &who.actor,
        &id,
        Some(email.as_str()),
        pref,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)
}

/// The newest 100 messages, or only those not delivered.
#[server(prefix = "/rpc", endpoint = "list_outbox")]
pub async fn list_outbox(undelivered_only: bool) -> Result<Vec<OutboxEntry>, AppError> {
    super::require(Permission::Administer, "manage notifications")?;
    crate::ops::notify::outbox(&super::db()?, undelivered_only)
        .await
        .map_err(super::failed)
}
