//! Accounts: the owner setup, users, sign-in with throttling, API tokens
//! (secrets are in `ops::secrets`). Each change writes its audit event in
//! the same transaction.

use crate::domain::audit::NewAuditEvent;
use crate::domain::auth::{Principal, Role, check_password, check_username};
use crate::error::{AppError, ErrorCode};
use crate::security;
use crate::store::accounts::{self as store, UserRow};
use crate::store::{Db, StoreError, audit};
use serde_json::json;

pub use super::tokens::{NewToken, create_token, list_tokens, revoke_token, token_principal};

/// Failed sign-ins in a row before the username is locked for a while.
pub const FREE_FAILURES: i64 = 5;
const FIRST_LOCK_MS: i64 = 30_000;
const LONGEST_LOCK_MS: i64 = 15 * 60_000;

pub mod action {
    pub const USER_CREATED: &str = "user.created";
    pub const USER_CHANGED: &str = "user.changed";
    pub const SIGNED_IN: &str = "user.signed_in";
    pub const SIGN_IN_FAILED: &str = "user.sign_in_failed";
    pub const SIGNED_OUT: &str = "user.signed_out";
    pub const TOKEN_CREATED: &str = "token.created";
    pub const TOKEN_REVOKED: &str = "token.revoked";
    pub const SECRET_SAVED: &str = "secret.saved";
    pub const SECRET_DELETED: &str = "secret.deleted";
}

pub(super) fn event(
    actor: &str,
    act: &str,
    entity: String,
    now: i64,
    details: serde_json::Value,
) -> NewAuditEvent {
    NewAuditEvent::new(now, actor, act, entity, details)
}

pub fn principal_of(u: &UserRow) -> Result<Principal, AppError> {
    Ok(Principal {
        actor: format!("user:{}", u.username),
        role: u.role()?,
        name: u.username.clone(),
        display_name: u.display_name.clone(),
        is_token: false,
        person: Some(u.username.clone()),
    })
}

fn clean_display(display_name: &str, username: &str) -> Result<String, AppError> {
    let d = display_name.trim();
    if d.chars().count() > 100 || d.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "the display name has at most 100 characters and no line breaks",
        ));
    }
    Ok(if d.is_empty() {
        username.to_string()
    } else {
        d.to_string()
    })
}

/// Checks the inputs of a new user and hashes the password.
fn new_user_fields(
    username: &str,
    display_name: &str,
    password: &str,
) -> Result<(String, String, String), AppError> {
    let username = username.trim();
    check_username(username).map_err(AppError::bad_request)?;
    check_password(password).map_err(AppError::bad_request)?;
    let display = clean_display(display_name, username)?;
    Ok((
        username.to_string(),
        display,
        security::hash_password(password),
    ))
}

pub async fn needs_setup(db: &Db) -> Result<bool, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(store::count_users(&mut conn).await? == 0)
}

/// Adds a user and its audit event inside `tx`.
#[allow(clippy::too_many_arguments)]
async fn add_user(
    tx: &mut crate::store::conn::Conn,
    actor: &str,
    username: &str,
    display_name: &str,
    password: &str,
    role: Role,
    owner: bool,
    now: i64,
) -> Result<UserRow, AppError> {
    let (username, display, hash) = new_user_fields(username, display_name, password)?;
    let id = format!("usr_{}", uuid::Uuid::now_v7().simple());
    // the owner creates themself
    let actor = if owner {
        format!("user:{username}")
    } else {
        actor.to_string()
    };
    store::insert_user(tx, &id, &username, &display, &hash, role, &actor, now).await?;
    let details = json!({"username": username, "role": role, "owner": owner});
    let e = event(
        &actor,
        action::USER_CREATED,
        format!("user:{id}"),
        now,
        details,
    );
    audit::append(tx, &e).await?;
    Ok(store::user_by_id(tx, &id)
        .await?
        .ok_or(StoreError::NotFound)?)
}

/// Creates the first account, an admin; refused once any user exists.
pub async fn setup_owner(
    db: &Db,
    username: &str,
    display_name: &str,
    password: &str,
    now: i64,
) -> Result<UserRow, AppError> {
    let mut tx = db.write().await?;
    if store::count_users(&mut tx).await? > 0 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "this instance already has its owner; sign in instead",
        ));
    }
    let user = add_user(
        &mut tx,
        "",
        username,
        display_name,
        password,
        Role::Admin,
        true,
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(user)
}

pub async fn create_user(
    db: &Db,
    actor: &str,
    username: &str,
    display_name: &str,
    password: &str,
    role: Role,
    now: i64,
) -> Result<UserRow, AppError> {
    let mut tx = db.write().await?;
    let user = add_user(
        &mut tx,
        actor,
        username,
        display_name,
        password,
        role,
        false,
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(user)
}

/// Changes a user's role or disables/enables them; the last active admin
/// keeps both.
pub async fn update_user(
    db: &Db,
    actor: &str,
    id: &str,
    role: Option<Role>,
    disabled: Option<bool>,
    now: i64,
) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let user = store::user_by_id(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no user with id '{id}'")))?;
    let demoting = user.role == "admin"
        && user.disabled_at.is_none()
        && (role.is_some_and(|r| r != Role::Admin) || disabled == Some(true));
    if demoting && store::active_admins(&mut tx).await? <= 1 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "this is the last active admin; make another user admin first",
        ));
    }
    store::update_user(&mut tx, id, role, disabled, now).await?;
    let details = json!({"username": user.username, "role": role, "disabled": disabled});
    audit::append(
        &mut tx,
        &event(
            actor,
            action::USER_CHANGED,
            format!("user:{id}"),
            now,
            details,
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    // a disabled person's tokens stop at once
    super::tokens::forget_all();
    Ok(())
}

pub async fn list_users(db: &Db) -> Result<Vec<UserRow>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(store::list_users(&mut conn).await?)
}

/// Until when sign-ins are refused after `failures` failures in a row.
pub fn lock_for(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES).min(10) as u32;
    (FIRST_LOCK_MS << doublings).min(LONGEST_LOCK_MS)
}

/// Checks a username and password. Wrong ones get one message (it does
/// not tell which was wrong); repeated failures lock the username for a
/// growing while, whether or not the user exists.
pub async fn sign_in(
    db: &Db,
    username: &str,
    password: &str,
    now: i64,
) -> Result<UserRow, AppError> {
    let username = username.trim();
    let wrong = || AppError::new(ErrorCode::Unauthorized, "wrong username or password");
    if username.is_empty()
        || username.len() > 64
        || password.len() > 4 * crate::domain::auth::MAX_PASSWORD
    {
        return Err(wrong());
    }
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let until = store::locked_until(&mut conn, username).await?;
    if until > now {
        return Err(AppError::new(
            ErrorCode::TooManyRequests,
            format!(
                "too many failed sign-ins for '{username}'; try again in {} s",
                (until - now + 999) / 1000
            ),
        ));
    }
    let user = store::user_by_name(&mut conn, username).await?;
    drop(conn);
    let ok = match &user {
        Some(u) => security::verify_password(password, &u.password_hash) && u.disabled_at.is_none(),
        None => {
            security::verify_nothing(password);
            false
        }
    };
    let mut tx = db.write().await?;
    if ok {
        let u = user.expect("checked");
        store::clear_failures(&mut tx, username).await?;
        let details = json!({"username": u.username});
        audit::append(
            &mut tx,
            &event(
                &format!("user:{}", u.username),
                action::SIGNED_IN,
                format!("user:{}", u.id),
                now,
                details,
            ),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        return Ok(u);
    }
    let failures = store::record_failure(&mut tx, username, now).await?;
    let lock = lock_for(failures);
    if lock > 0 {
        store::lock(&mut tx, username, now + lock).await?;
    }
    let details = json!({"username": username, "failures_in_a_row": failures});
    audit::append(
        &mut tx,
        &event(
            "anonymous",
            action::SIGN_IN_FAILED,
            format!("user:{username}"),
            now,
            details,
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Err(wrong())
}

pub async fn signed_out(db: &Db, p: &Principal, now: i64) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    audit::append(
        &mut tx,
        &event(
            &p.actor,
            action::SIGNED_OUT,
            p.actor.clone(),
            now,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The person behind a session, if they still may sign in.
pub async fn user_principal(db: &Db, user_id: &str) -> Result<Option<Principal>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    match store::user_by_id(&mut conn, user_id).await? {
        Some(u) if u.disabled_at.is_none() => Ok(Some(principal_of(&u)?)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_after_five_failures_and_stop_at_fifteen_minutes() {
        assert_eq!(lock_for(4), 0);
        assert_eq!(lock_for(5), 30_000);
        assert_eq!(lock_for(6), 60_000);
        assert_eq!(lock_for(50), 15 * 60_000);
    }
}
