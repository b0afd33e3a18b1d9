//! Notification settings: the instance's mail server (kept in
//! `instance_meta`, its password as a named secret), each person's address
//! and preference, and the outbox as admins see it. Each change writes its
//! audit event in the same transaction.

use super::accounts::event;
use crate::domain::notify::{NotifyPref, OutboxEntry, SmtpSettings, check_email};
use crate::domain::outbound::HostList;
use crate::error::AppError;
use crate::security::Sealer;
use crate::store::accounts as users;
use crate::store::{Db, StoreError, audit, outbox};
use serde_json::json;

/// The `instance_meta` key of the mail server settings (JSON).
pub const SMTP_META: &str = "smtp";

pub mod action {
    pub const SMTP_SAVED: &str = "settings.smtp_saved";
    pub const SMTP_CLEARED: &str = "settings.smtp_cleared";
    pub const CONTACT_SET: &str = "user.contact_set";
}

/// The mail server settings, if an admin saved them.
pub async fn smtp_settings(db: &Db) -> Result<Option<SmtpSettings>, AppError> {
    let Some(text) = db.meta(SMTP_META).await? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| AppError::internal(&format!("the saved mail server settings: {e}")))
}

/// Saves the mail server settings (None: forgets them, and nothing is
/// emailed). A password secret must exist and list the server's host.
pub async fn set_smtp(
    db: &Db,
    actor: &str,
    settings: Option<SmtpSettings>,
    now: i64,
) -> Result<(), AppError> {
    let mut tx = db.write().await?;
    let (act, details) = match settings.map(SmtpSettings::tidied) {
        Some(s) => {
            let problems = s.problems();
            if !problems.is_empty() {
                return Err(AppError::bad_request(problems.join("; ")));
            }
            if let Some(name) = &s.password_secret {
                let hosts = users::sealed_secrets(&mut tx)
                    .await?
                    .into_iter()
                    .find(|(n, _, _)| n == name)
                    .map(|(_, _, hosts)| hosts)
                    .ok_or_else(|| {
                        AppError::bad_request(format!(
                            "password_secret: there is no secret named {name}; save it under Secrets first"
                        ))
                    })?;
                password_may_go(name, &hosts, &s.host, s.port).map_err(AppError::bad_request)?;
            }
            let text = serde_json::to_string(&s).map_err(|e| AppError::internal(&e))?;
            crate::store::set_meta(&mut tx, SMTP_META, &text).await?;
            let details = serde_json::to_value(&s).map_err(|e| AppError::internal(&e))?;
            (action::SMTP_SAVED, details)
        }
        None => {
            crate::store::delete_meta(&mut tx, SMTP_META).await?;
            (action::SMTP_CLEARED, json!({}))
        }
    };
    audit::append(
        &mut tx,
        &event(actor, act, "settings:smtp".into(), now, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Whether the secret `name` (with its `hosts`) may be sent to the mail
/// server: the same rule as for Http steps.
pub fn password_may_go(name: &str, hosts: &str, host: &str, port: u16) -> Result<(), String> {
    let list: HostList = hosts.parse()?;
    let ip = host.trim_matches(['[', ']']).parse().ok();
    if list.admits(host, ip, Some(port)) {
        Ok(())
    } else {
        Err(format!(
            "the secret {name} may only be sent to {hosts}; add {host} to its hosts to use it for the mail server"
        ))
    }
}

/// The mail server's password, opened, when the settings name one.
pub async fn smtp_password(
    db: &Db,
    sealer: &Sealer,
    s: &SmtpSettings,
) -> Result<Option<String>, String> {
    let Some(name) = &s.password_secret else {
        return Ok(None);
    };
    let open = super::secrets::open_secrets(db, sealer, std::slice::from_ref(name))
        .await
        .map_err(|e| e.message)?;
    let (value, hosts) = open
        .get(name)
        .ok_or_else(|| format!("the mail server's password secret {name} no longer exists"))?;
    password_may_go(name, hosts, &s.host, s.port)?;
    Ok(Some(value.clone()))
}

/// Sets where a person's notifications go (None: nowhere) and how often.
pub async fn set_contact(
    db: &Db,
    actor: &str,
    user_id: &str,
    email: Option<&str>,
    notify: NotifyPref,
    now: i64,
) -> Result<(), AppError> {
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(e) = email {
        check_email(e).map_err(AppError::bad_request)?;
    }
    let mut tx = db.write().await?;
    let user = users::user_by_id(&mut tx, user_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no user with id '{user_id}'")))?;
    users::set_contact(&mut tx, user_id, email, notify, now).await?;
    let details = json!({"username": user.username, "email": email, "notify": notify});
    audit::append(
        &mut tx,
        &event(
            actor,
            action::CONTACT_SET,
            format!("user:{user_id}"),
            now,
            details,
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Queues a test message to `to` through the saved mail server; the
/// outbox shows whether it was delivered.
pub async fn queue_test_email(db: &Db, actor: &str, to: &str, now: i64) -> Result<(), AppError> {
    let to = to.trim();
    check_email(to).map_err(AppError::bad_request)?;
    if smtp_settings(db).await?.is_none() {
        return Err(AppError::bad_request(
            "save a mail server first: there is nothing to send the test through",
        ));
    }
    let text = format!(
        "This is a test message from Stepwise, sent by {actor}.\n\nIf you can read it, approval notifications and Email steps can reach people through this mail server.\n"
    );
    let mut tx = db.write().await?;
    let m = outbox::NewMessage {
        channel: "email",
        destination: to,
        subject: "Stepwise test message",
        body: &text,
        reason: "test",
        ..Default::default()
    };
    outbox::insert(&mut tx, &m, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The newest notifications (or only those not delivered), for admins.
pub async fn outbox(db: &Db, undelivered_only: bool) -> Result<Vec<OutboxEntry>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(outbox::recent(&mut conn, undelivered_only, 100).await?)
}
