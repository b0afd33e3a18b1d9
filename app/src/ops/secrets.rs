//! Secrets for Http and LLM steps: saved sealed with the instance key, each
//! with the hosts it may be sent to. Each change writes its audit event in
//! the same transaction.

use super::accounts::{action, event};
use crate::error::AppError;
use crate::security::Sealer;
use crate::store::accounts as store;
use crate::store::{Db, StoreError, audit};
use serde_json::json;

/// `NAME`: 1–64 capital letters, digits and `_`, starting with a letter.
pub fn check_secret_name(name: &str) -> Result<(), AppError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "a secret name has 1 to 64 capital letters, digits or '_' and starts with a letter (e.g. LEDGER_API_KEY)",
        ))
    }
}

pub async fn set_secret(
    db: &Db,
    sealer: &Sealer,
    actor: &str,
    name: &str,
    value: &str,
    hosts: &str,
    now: i64,
) -> Result<(), AppError> {
    check_secret_name(name)?;
    if value.is_empty() || value.len() > 16 * 1024 {
        return Err(AppError::bad_request(
            "a secret's value has 1 byte to 16 KiB",
        ));
    }
    let hosts: crate::domain::outbound::HostList = hosts.parse().map_err(AppError::bad_request)?;
    if hosts.is_empty() {
        return Err(AppError::bad_request(
            "name the hosts this secret may be sent to (e.g. ledger.example.com, *.corp.example, 10.0.0.5:8443)",
        ));
    }
    let hosts = hosts.to_string();
    let mut tx = db.write().await?;
    store::put_secret(&mut tx, name, &sealer.seal(value), &hosts, actor, now).await?;
    // the value never reaches the audit trail
    audit::append(
        &mut tx,
        &event(
            actor,
            action::SECRET_SAVED,
            format!("secret:{name}"),
            now,
            json!({"name": name, "hosts": hosts}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn delete_secret(db: &Db, actor: &str, name: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    store::delete_secret(&mut tx, name)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found(format!("no secret named '{name}'")),
            e => e.into(),
        })?;
    audit::append(
        &mut tx,
        &event(
            actor,
            action::SECRET_DELETED,
            format!("secret:{name}"),
            now,
            json!({"name": name}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn list_secrets(db: &Db) -> Result<Vec<store::SecretInfo>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(store::list_secrets(&mut conn).await?)
}

/// The secrets named in `names` that exist, opened, by name: each value
/// with the hosts it may be sent to.
pub async fn open_secrets(
    db: &Db,
    sealer: &Sealer,
    names: &[String],
) -> Result<std::collections::BTreeMap<String, (String, String)>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let mut out = std::collections::BTreeMap::new();
    for (name, sealed, hosts) in store::sealed_secrets(&mut conn).await? {
        if !names.contains(&name) {
            continue;
        }
        let value = sealer
            .open(&sealed)
            .map_err(|e| AppError::internal(&format!("secret {name}: {e}")))?;
        out.insert(name, (value, hosts));
    }
    Ok(out)
}
