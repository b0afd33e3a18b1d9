//! Users, API tokens, failed-login counts and sealed secrets.

use super::{Result, StoreError};
use crate::domain::auth::Role;
pub use crate::domain::records::{SecretInfo, TokenInfo as TokenRow};
use serde::{Deserialize, Serialize};

pub const USERNAME_TAKEN: &str = "a user with this username already exists; choose another";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: String,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    /// Where notifications go (none: nowhere).
    pub email: Option<String>,
    /// `each`, `digest` or `off` (`domain::notify::NotifyPref`).
    pub notify: String,
    /// When the last daily digest went.
    pub digest_at: Option<i64>,
}

impl UserRow {
    pub fn role(&self) -> Result<Role> {
        self.role.parse().map_err(StoreError::Corrupt)
    }
}

const USER_COLUMNS: &str =
    "id, username, display_name, password_hash, role, disabled_at, created_at, created_by,
     email, notify, digest_at";

pub async fn count_users(conn: &mut crate::store::conn::Conn) -> Result<i64> {
    Ok(
        crate::store::conn::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(conn)
            .await?,
    )
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_user(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    username: &str,
    display_name: &str,
    password_hash: &str,
    role: Role,
    actor: &str,
    now: i64,
) -> Result<()> {
    crate::store::conn::query(
        "INSERT INTO users (id, username, display_name, password_hash, role, created_at, created_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(username)
    .bind(display_name)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .bind(actor)
    .bind(now)
    .execute(conn)
    .await
    .map_err(|e| StoreError::from(e).unique_as(USERNAME_TAKEN))?;
    Ok(())
}

pub async fn user_by_name(
    conn: &mut crate::store::conn::Conn,
    username: &str,
) -> Result<Option<UserRow>> {
    Ok(crate::store::conn::query_as(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(username) = lower($1)"
    ))
    .bind(username)
    .fetch_optional(conn)
    .await?)
}

pub async fn user_by_id(conn: &mut crate::store::conn::Conn, id: &str) -> Result<Option<UserRow>> {
    Ok(
        crate::store::conn::query_as(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn list_users(conn: &mut crate::store::conn::Conn) -> Result<Vec<UserRow>> {
    Ok(crate::store::conn::query_as(format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY lower(username)"
    ))
    .fetch_all(conn)
    .await?)
}

/// Sets a user's role and/or disabled state; NotFound when there is no such user.
pub async fn update_user(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    role: Option<Role>,
    disabled: Option<bool>,
    now: i64,
) -> Result<()> {
    let done = crate::store::conn::query(
        "UPDATE users SET role = COALESCE($2, role),
             disabled_at = CASE WHEN $3 IS NULL THEN disabled_at WHEN $3 THEN COALESCE(disabled_at, $4) ELSE NULL END,
             updated_at = $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(role.map(Role::as_str))
    .bind(disabled)
    .bind(now)
    .execute(conn)
    .await?;
    crate::store::found(done.rows_affected())
}

/// Sets where a user's notifications go and how often; NotFound when
/// there is no such user.
pub async fn set_contact(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    email: Option<&str>,
    notify: crate::domain::notify::NotifyPref,
    now: i64,
) -> Result<()> {
    let done = crate::store::conn::query(
        "UPDATE users SET email = $2, notify = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(email)
    .bind(notify.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    crate::store::found(done.rows_affected())
}

/// The active users with an address who want email (each item or a digest).
pub async fn reachable_users(conn: &mut crate::store::conn::Conn) -> Result<Vec<UserRow>> {
    Ok(crate::store::conn::query_as(format!(
        "SELECT {USER_COLUMNS} FROM users
         WHERE disabled_at IS NULL AND email IS NOT NULL AND notify != 'off' ORDER BY id"
    ))
    .fetch_all(conn)
    .await?)
}

/// Records that a user's digest went (if nobody sent it meanwhile).
pub async fn mark_digest(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    was: Option<i64>,
    now: i64,
) -> Result<bool> {
    let done = crate::store::conn::query(
        "UPDATE users SET digest_at = $3 WHERE id = $1 AND digest_at IS NOT DISTINCT FROM $2",
    )
    .bind(id)
    .bind(was)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Admins that are not disabled (the last one cannot be demoted or disabled).
pub async fn active_admins(conn: &mut crate::store::conn::Conn) -> Result<i64> {
    Ok(crate::store::conn::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL",
    )
    .fetch_one(conn)
    .await?)
}

// ---- failed logins

/// Until when logins for `username` are refused (0 = not locked).
pub async fn locked_until(conn: &mut crate::store::conn::Conn, username: &str) -> Result<i64> {
    Ok(crate::store::conn::query_scalar(
        "SELECT locked_until FROM login_failures WHERE username = $1",
    )
    .bind(username.to_lowercase())
    .fetch_optional(conn)
    .await?
    .unwrap_or(0))
}

/// Counts a failure and returns the number of failures in a row.
pub async fn record_failure(
    conn: &mut crate::store::conn::Conn,
    username: &str,
    now: i64,
) -> Result<i64> {
    Ok(crate::store::conn::query_scalar(
        "INSERT INTO login_failures (username, failures, last_at) VALUES ($1, 1, $2)
         ON CONFLICT (username) DO UPDATE SET failures = login_failures.failures + 1, last_at = $2
         RETURNING failures",
    )
    .bind(username.to_lowercase())
    .bind(now)
    .fetch_one(conn)
    .await?)
}

pub async fn lock(conn: &mut crate::store::conn::Conn, username: &str, until: i64) -> Result<()> {
    crate::store::conn::query("UPDATE login_failures SET locked_until = $1 WHERE username = $2")
        .bind(until)
        .bind(username.to_lowercase())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn clear_failures(conn: &mut crate::store::conn::Conn, username: &str) -> Result<()> {
    crate::store::conn::query("DELETE FROM login_failures WHERE username = $1")
        .bind(username.to_lowercase())
        .execute(conn)
        .await?;
    Ok(())
}

// ---- API tokens

const TOKEN_COLUMNS: &str = "id, name, role, created_at, created_by, last_used_at, revoked_at";

#[allow(clippy::too_many_arguments)]
pub async fn insert_token(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    name: &str,
    token_hash: &str,
    role: Role,
    actor: &str,
    now: i64,
) -> Result<()> {
    crate::store::conn::query(
        "INSERT INTO api_tokens (id, name, token_hash, role, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(name)
    .bind(token_hash)
    .bind(role.as_str())
    .bind(now)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(())
}

/// The live token with this hash.
pub async fn token_by_hash(
    conn: &mut crate::store::conn::Conn,
    hash: &str,
) -> Result<Option<TokenRow>> {
    Ok(crate::store::conn::query_as(format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
    ))
    .bind(hash)
    .fetch_optional(conn)
    .await?)
}

/// Notes a use, at most once a minute per token (a write per request
/// would cost more than the request).
pub async fn touch_token(conn: &mut crate::store::conn::Conn, id: &str, now: i64) -> Result<()> {
    crate::store::conn::query(
        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2 - 60000)",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_tokens(conn: &mut crate::store::conn::Conn) -> Result<Vec<TokenRow>> {
    Ok(crate::store::conn::query_as(format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC"
    ))
    .fetch_all(conn)
    .await?)
}

pub async fn revoke_token(conn: &mut crate::store::conn::Conn, id: &str, now: i64) -> Result<()> {
    let done = crate::store::conn::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    crate::store::found(done.rows_affected())
}

// ---- secrets

pub async fn put_secret(
    conn: &mut crate::store::conn::Conn,
    name: &str,
    sealed: &[u8],
    hosts: &str,
    actor: &str,
    now: i64,
) -> Result<()> {
    crate::store::conn::query(
        "INSERT INTO secrets (name, sealed, hosts, created_at, created_by, updated_at, updated_by)
         VALUES ($1, $2, $5, $3, $4, $3, $4)
         ON CONFLICT (name) DO UPDATE SET sealed = $2, hosts = $5, updated_at = $3, updated_by = $4",
    )
    .bind(name)
    .bind(sealed)
    .bind(now)
    .bind(actor)
    .bind(hosts)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_secret(conn: &mut crate::store::conn::Conn, name: &str) -> Result<()> {
    let done = crate::store::conn::query("DELETE FROM secrets WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    crate::store::found(done.rows_affected())
}

pub async fn list_secrets(conn: &mut crate::store::conn::Conn) -> Result<Vec<SecretInfo>> {
    Ok(crate::store::conn::query_as(
        "SELECT name, hosts, updated_at, updated_by FROM secrets ORDER BY name",
    )
    .fetch_all(conn)
    .await?)
}

/// Every secret, sealed, with its hosts.
pub async fn sealed_secrets(
    conn: &mut crate::store::conn::Conn,
) -> Result<Vec<(String, Vec<u8>, String)>> {
    Ok(
        crate::store::conn::query_as("SELECT name, sealed, hosts FROM secrets")
            .fetch_all(conn)
            .await?,
    )
}
