//! API tokens: made, listed and revoked (each audited in the same
//! transaction), and who a token is on every request: looked up once and then kept for
//! a moment ([`FRESH`]), so a client's stream of requests costs no
//! database reads. Revoking a token or changing a user forgets every kept
//! answer in this process at once; another process sharing the database
//! sees such a change within [`FRESH`].

use super::accounts::{action, event};
use crate::domain::auth::{Principal, Role};
use crate::error::AppError;
use crate::security;
use crate::store::accounts::{self as store, TokenRow};
use crate::store::{Db, StoreError, audit};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// How long a looked-up token is believed without asking again.
pub const FRESH: Duration = Duration::from_secs(2);

/// Tokens kept at most (a flood of distinct tokens only empties it).
const MOST: usize = 10_000;

/// How often a token's last use is written (the store keeps a minute too).
const TOUCH_EVERY_MS: i64 = 60_000;

struct Kept {
    principal: Principal,
    token_id: String,
    looked_up: Instant,
    touched: i64,
}

/// Kept answers by token hash, and the generation they belong to.
static KEPT: LazyLock<Mutex<HashMap<String, Kept>>> = LazyLock::new(Default::default);
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Forgets every kept answer (a token was revoked, a user changed).
pub fn forget_all() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    KEPT.lock().expect("token cache").clear();
}

/// The principal a live token acts as, or None for an unknown or revoked
/// token or one whose creator is disabled.
pub async fn token_principal(
    db: &Db,
    token: &str,
    now: i64,
) -> Result<Option<Principal>, AppError> {
    let hash = security::token_hash(token);
    let touch = {
        let mut kept = KEPT.lock().expect("token cache");
        match kept.get_mut(&hash) {
            Some(k) if k.looked_up.elapsed() < FRESH => {
                let due = now - k.touched >= TOUCH_EVERY_MS;
                if due {
                    k.touched = now;
                }
                Some((k.principal.clone(), due.then(|| k.token_id.clone())))
            }
            _ => None,
        }
    };
    if let Some((principal, touch)) = touch {
        if let Some(id) = touch {
            let mut conn = db.write_each().await?;
            store::touch_token(&mut conn, &id, now).await?;
        }
        return Ok(Some(principal));
    }
    let generation = GENERATION.load(Ordering::SeqCst);
    let Some((principal, token_id)) = look_up(db, &hash, now).await? else {
        return Ok(None);
    };
    let mut kept = KEPT.lock().expect("token cache");
    // an answer read before a revocation is not kept past it
    if GENERATION.load(Ordering::SeqCst) == generation {
        if kept.len() >= MOST {
            kept.clear();
        }
        kept.insert(
            hash,
            Kept {
                principal: principal.clone(),
                token_id,
                looked_up: Instant::now(),
                touched: now,
            },
        );
    }
    Ok(Some(principal))
}

/// Reads the token from the database and notes its use.
async fn look_up(db: &Db, hash: &str, now: i64) -> Result<Option<(Principal, String)>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let Some(t) = store::token_by_hash(&mut conn, hash).await? else {
        return Ok(None);
    };
    let role = t.role.parse().map_err(StoreError::Corrupt)?;
    let p = Principal::token(&t.id, &t.name, role, &t.created_by);
    // a token acts for its creator: it stops when they are disabled
    if let Some(person) = &p.person
        && store::user_by_name(&mut conn, person)
            .await?
            .is_some_and(|u| u.disabled_at.is_some())
    {
        return Ok(None);
    }
    drop(conn);
    let mut conn = db.write_each().await?;
    store::touch_token(&mut conn, &t.id, now).await?;
    Ok(Some((p, t.id)))
}

/// A new token: the row and the token itself, which is shown only now.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewToken {
    pub token: TokenRow,
    pub secret: String,
}

pub async fn create_token(
    db: &Db,
    actor: &str,
    name: &str,
    role: Role,
    now: i64,
) -> Result<NewToken, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "give the token a name (at most 100 characters) that says where it is used",
        ));
    }
    let id = format!("tok_{}", uuid::Uuid::now_v7().simple());
    let secret = security::new_token();
    let mut tx = db.write().await?;
    store::insert_token(
        &mut tx,
        &id,
        name,
        &security::token_hash(&secret),
        role,
        actor,
        now,
    )
    .await?;
    let details = json!({"name": name, "role": role});
    audit::append(
        &mut tx,
        &event(
            actor,
            action::TOKEN_CREATED,
            format!("token:{id}"),
            now,
            details,
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let token = TokenRow {
        id,
        name: name.to_string(),
        role: role.as_str().into(),
        created_at: now,
        created_by: actor.into(),
        last_used_at: None,
        revoked_at: None,
    };
    Ok(NewToken { token, secret })
}

pub async fn list_tokens(db: &Db) -> Result<Vec<TokenRow>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(store::list_tokens(&mut conn).await?)
}

pub async fn revoke_token(db: &Db, actor: &str, id: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    store::revoke_token(&mut tx, id, now)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found(format!("no live token with id '{id}'")),
            e => e.into(),
        })?;
    audit::append(
        &mut tx,
        &event(
            actor,
            action::TOKEN_REVOKED,
            format!("token:{id}"),
            now,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    forget_all();
    Ok(())
}
