//! Signing in and out, the owner setup, and the admin's users, API tokens
//! and secrets.

#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::domain::auth::{Principal, Role};
use crate::domain::records::{SecretInfo, TokenInfo};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The session key holding the signed-in user's id.
pub const SESSION_USER: &str = "user_id";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub me: Option<Principal>,
    /// No account exists yet: the first visitor creates the owner.
    pub needs_setup: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    /// Where notifications go (none: nowhere).
    pub email: Option<String>,
    /// `each`, `digest` or `off`.
    pub notify: String,
}

#[cfg(feature = "ssr")]
async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| AppError::internal(&format!("no session layer: {e:?}")))
}

#[cfg(feature = "ssr")]
async fn start_session(user_id: &str) -> Result<(), AppError> {
    let s = session().await?;
    // a new session id on every sign-in: an id planted before cannot ride along
    s.cycle_id().await.map_err(|e| AppError::internal(&e))?;
    s.insert(SESSION_USER, user_id)
        .await
        .map_err(|e| AppError::internal(&e))
}

#[server(prefix = "/rpc", endpoint = "session_info")]
pub async fn session_info() -> Result<SessionState, AppError> {
    let me = super::caller();
    let needs_setup = me.is_none() && crate::ops::accounts::needs_setup(&super::db()?).await?;
    Ok(SessionState { me, needs_setup })
}

/// Creates the owner (an admin) on an instance without accounts, and signs
/// them in.
#[server(prefix = "/rpc", endpoint = "setup_owner")]
pub async fn setup_owner(
    username: String,
    display_name: String,
    password: String,
) -> Result<(), AppError> {
    let now = crate::ops::now_ms();
    let user =
        crate::ops::accounts::setup_owner(&super::db()?, &username, &display_name, &password, now)
            .await
            .map_err(super::failed)?;
    start_session(&user.id).await
}

#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(username: String, password: String) -> Result<(), AppError> {
    let now = crate::ops::now_ms();
    let user = crate::ops::accounts::sign_in(&super::db()?, &username, &password, now)
        .await
        .map_err(super::failed)?;
    start_session(&user.id).await
}

#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    if let Some(p) = super::caller().filter(|p| !p.is_token) {
        crate::ops::accounts::signed_out(&super::db()?, &p, crate::ops::now_ms()).await?;
    }
    session()
        .await?
        .flush()
        .await
        .map_err(|e| AppError::internal(&e))
}

#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    super::require(Permission::Administer, "manage users")?;
    let users = crate::ops::accounts::list_users(&super::db()?).await?;
    users
        .into_iter()
        .map(|u| {
            Ok(UserView {
                role: u.role()?,
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                disabled: u.disabled_at.is_some(),
                created_at: u.created_at,
                email: u.email,
                notify: u.notify,
            })
        })
        .collect()
}

#[server(prefix = "/rpc", endpoint = "create_user")]
pub async fn create_user(
    username: String,
    display_name: String,
    password: String,
    role: String,
) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage users")?;
    let role: Role = role.parse().map_err(AppError::bad_request)?;
    crate::ops::accounts::create_user(
        &super::db()?,
        &who.actor,
        &username,
        &display_name,
        &password,
        role,
        crate::ops::now_ms(),
    )
    .await
    .map(|_| ())
    .map_err(super::failed)
}

/// Changes a user's role (`role`) or disables/enables them (`disabled`).
#[server(prefix = "/rpc", endpoint = "update_user")]
pub async fn update_user(
    id: String,
    role: Option<String>,
    disabled: Option<bool>,
) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage users")?;
    let role = role
        .map(|r| r.parse::<Role>())
        .transpose()
        .map_err(AppError::bad_request)?;
    crate::ops::accounts::update_user(
        &super::db()?,
        &who.actor,
        &id,
        role,
        disabled,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)
}

#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, AppError> {
    super::require(Permission::Administer, "manage API tokens")?;
    crate::ops::accounts::list_tokens(&super::db()?).await
}

/// Creates a token and returns it: the only time it is shown.
#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(name: String, role: String) -> Result<String, AppError> {
    let who = super::require(Permission::Administer, "manage API tokens")?;
    let role: Role = role.parse().map_err(AppError::bad_request)?;
    crate::ops::accounts::create_token(&super::db()?, &who.actor, &name, role, crate::ops::now_ms())
        .await
        .map(|t| t.secret)
        .map_err(super::failed)
}

#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage API tokens")?;
    crate::ops::accounts::revoke_token(&super::db()?, &who.actor, &id, crate::ops::now_ms())
        .await
        .map_err(super::failed)
}

/// Secret names (never values); editors see them to use them in steps.
#[server(prefix = "/rpc", endpoint = "list_secrets")]
pub async fn list_secrets() -> Result<Vec<SecretInfo>, AppError> {
    super::require(Permission::EditWorkflows, "see secret names")?;
    crate::ops::secrets::list_secrets(&super::db()?).await
}

#[server(prefix = "/rpc", endpoint = "set_secret")]
pub async fn set_secret(name: String, value: String, hosts: String) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage secrets")?;
    let sealer = use_context::<crate::security::Sealer>()
        .ok_or_else(|| AppError::internal(&"sealer missing from context"))?;
    crate::ops::secrets::set_secret(
        &super::db()?,
        &sealer,
        &who.actor,
        name.trim(),
        &value,
        &hosts,
        crate::ops::now_ms(),
    )
    .await
    .map_err(super::failed)
}

#[server(prefix = "/rpc", endpoint = "delete_secret")]
pub async fn delete_secret(name: String) -> Result<(), AppError> {
    let who = super::require(Permission::Administer, "manage secrets")?;
    crate::ops::secrets::delete_secret(&super::db()?, &who.actor, &name, crate::ops::now_ms())
        .await
        .map_err(super::failed)
}
