//! Managing triggers: create, change, pause, resume, delete, rotate a
//! webhook's key; each an audited action. Deliveries are handled by the
//! server (`server/src/hooks`), fires by its scheduler.

mod deliveries;
pub use deliveries::{Deliveries, KEEP_REFUSED, TestEvent};

use crate::domain::audit::{Actor, NewAuditEvent, action};
use crate::domain::ids::TriggerId;
use crate::domain::triggers::schedule::Schedule;
use crate::domain::triggers::view::{NextFire, TriggerView, WithSecret};
use crate::domain::triggers::{self, Trigger, TriggerInput, TriggerSpec};
use crate::error::{AppError, ErrorCode};
use crate::security::Sealer;
use crate::store::{Db, StoreError, audit, triggers as store, workflows};
use serde_json::json;

/// How many recent deliveries and fires a view lists.
pub const VIEW_EVENTS: i64 = 20;

fn not_found(id: &str) -> impl Fn(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::NotFound => AppError::not_found(format!("no trigger with id '{id}'")),
        StoreError::Conflict(m) => AppError::new(ErrorCode::Conflict, m),
        other => other.into(),
    }
}

/// A trigger id from outside: one of the right shape, or 404.
pub fn parse_id(id: &str) -> Result<TriggerId, AppError> {
    TriggerId::parse(id).ok_or_else(|| AppError::not_found(format!("no trigger with id '{id}'")))
}

fn event(
    actor: &Actor,
    act: &str,
    t: &Trigger,
    now: i64,
    mut details: serde_json::Value,
) -> NewAuditEvent {
    details["workflow_id"] = json!(t.workflow_id);
    details["name"] = json!(t.name);
    details["kind"] = json!(t.spec.kind());
    NewAuditEvent::new(now, &actor.0, act, format!("trigger:{}", t.id), details)
}

/// Checks `input` fully (a schedule's pattern and zone too) and returns
/// the schedule's first nominal time after `now`.
fn checked(input: &TriggerInput, now: i64) -> Result<Option<i64>, AppError> {
    triggers::check(input).map_err(|m| AppError::new(ErrorCode::InvalidInput, m))?;
    match &input.spec {
        TriggerSpec::Webhook(_) => Ok(None),
        TriggerSpec::Schedule(s) => {
            let sched = Schedule::new(s).map_err(|m| AppError::new(ErrorCode::InvalidInput, m))?;
            match sched.next_after(now) {
                Some(t) => Ok(Some(t)),
                None => Err(AppError::new(
                    ErrorCode::InvalidInput,
                    "when: this schedule never fires (no date matches it, like February 30)",
                )),
            }
        }
    }
}

/// Adds a trigger to a workflow. A webhook gets a new secret, returned
/// here once.
pub async fn create(
    db: &Db,
    sealer: &Sealer,
    actor: &Actor,
    workflow_id: &str,
    input: TriggerInput,
    now: i64,
) -> Result<WithSecret, AppError> {
    let next = checked(&input, now)?;
    let secret =
        matches!(input.spec, TriggerSpec::Webhook(_)).then(crate::security::new_webhook_secret);
    let t = Trigger {
        id: TriggerId::generate(),
        workflow_id: workflow_id.to_string(),
        name: input.name.trim().to_string(),
        spec: input.spec,
        paused: false,
        paused_reason: None,
        rotating: false,
        created_at: now,
        created_by: actor.0.clone(),
        updated_at: now,
    };
    let mut tx = db.write().await?;
    // the workflow must exist (and not be deleted)
    workflows::published(&mut tx, workflow_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                AppError::not_found(format!("no workflow with id '{workflow_id}'"))
            }
            other => other.into(),
        })?;
    let sealed = secret.as_deref().map(|s| sealer.seal(s));
    store::insert(&mut tx, &t, sealed.as_deref(), next)
        .await
        .map_err(not_found(&t.id))?;
    audit::append(
        &mut tx,
        &event(
            actor,
            action::TRIGGER_CREATED,
            &t,
            now,
            json!({"spec": t.spec}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(WithSecret {
        trigger: view(db, t, now).await?,
        secret,
    })
}

/// Changes a trigger's name and settings; its kind cannot change.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: &str,
    input: TriggerInput,
    now: i64,
) -> Result<TriggerView, AppError> {
    let id = parse_id(id)?;
    let next = checked(&input, now)?;
    let mut tx = db.write().await?;
    let before = store::get(&mut tx, &id).await.map_err(not_found(&id))?;
    if before.spec.kind() != input.spec.kind() {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!(
                "kind: this trigger is a {}; delete it and add a {} instead",
                before.spec.kind(),
                input.spec.kind()
            ),
        ));
    }
    let name = input.name.trim().to_string();
    let next = if before.paused { None } else { next };
    store::update(&mut tx, &id, &name, &input.spec, next, now)
        .await
        .map_err(not_found(&id))?;
    let after = Trigger {
        name,
        spec: input.spec,
        updated_at: now,
        ..before.clone()
    };
    let details = json!({"before": before.spec, "after": after.spec});
    audit::append(
        &mut tx,
        &event(actor, action::TRIGGER_UPDATED, &after, now, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    view(db, after, now).await
}

/// Stops (or restarts) a trigger. A paused webhook answers 503; a paused
/// schedule does not fire, and on resume counts from now (what it missed
/// while paused is not caught up).
pub async fn set_paused(
    db: &Db,
    actor: &Actor,
    id: &str,
    paused: bool,
    now: i64,
) -> Result<TriggerView, AppError> {
    let id = parse_id(id)?;
    let mut tx = db.write().await?;
    let t = store::get(&mut tx, &id).await.map_err(not_found(&id))?;
    let next = match (&t.spec, paused) {
        (TriggerSpec::Schedule(s), false) => Schedule::new(s).ok().and_then(|s| s.next_after(now)),
        _ => None,
    };
    store::set_paused(&mut tx, &id, paused, None, next, now)
        .await
        .map_err(not_found(&id))?;
    let act = if paused {
        action::TRIGGER_PAUSED
    } else {
        action::TRIGGER_RESUMED
    };
    audit::append(&mut tx, &event(actor, act, &t, now, json!({}))).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let t = Trigger {
        paused,
        paused_reason: None,
        updated_at: now,
        ..t
    };
    view(db, t, now).await
}

pub async fn delete(db: &Db, actor: &Actor, id: &str, now: i64) -> Result<(), AppError> {
    let id = parse_id(id)?;
    let mut tx = db.write().await?;
    let t = store::get(&mut tx, &id).await.map_err(not_found(&id))?;
    store::delete(&mut tx, &id).await.map_err(not_found(&id))?;
    audit::append(
        &mut tx,
        &event(
            actor,
            action::TRIGGER_DELETED,
            &t,
            now,
            json!({"spec": t.spec}),
        ),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// A new key for a webhook, returned once. The old key is still accepted
/// until [`retire_previous_key`] (senders can switch without a gap).
pub async fn rotate_key(
    db: &Db,
    sealer: &Sealer,
    actor: &Actor,
    id: &str,
    now: i64,
) -> Result<WithSecret, AppError> {
    let id = parse_id(id)?;
    let secret = crate::security::new_webhook_secret();
    let mut tx = db.write().await?;
    let t = store::get(&mut tx, &id).await.map_err(not_found(&id))?;
    if !matches!(t.spec, TriggerSpec::Webhook(_)) {
        return Err(AppError::bad_request("only a webhook has a key to rotate"));
    }
    store::set_secret(&mut tx, &id, &sealer.seal(&secret), true, now)
        .await
        .map_err(not_found(&id))?;
    audit::append(
        &mut tx,
        &event(actor, action::TRIGGER_KEY_ROTATED, &t, now, json!({})),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let t = Trigger {
        rotating: true,
        updated_at: now,
        ..t
    };
    Ok(WithSecret {
        trigger: view(db, t, now).await?,
        secret: Some(secret),
    })
}

/// Stops accepting a webhook's previous key.
pub async fn retire_previous_key(
    db: &Db,
    actor: &Actor,
    id: &str,
    now: i64,
) -> Result<TriggerView, AppError> {
    let id = parse_id(id)?;
    let mut tx = db.write().await?;
    let t = store::get(&mut tx, &id).await.map_err(not_found(&id))?;
    if !t.rotating {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "this trigger has no previous key",
        ));
    }
    store::retire_previous(&mut tx, &id, now)
        .await
        .map_err(not_found(&id))?;
    audit::append(
        &mut tx,
        &event(actor, action::TRIGGER_KEY_RETIRED, &t, now, json!({})),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let t = Trigger {
        rotating: false,
        updated_at: now,
        ..t
    };
    view(db, t, now).await
}

/// One trigger with its next fires and recent events.
pub async fn get(db: &Db, id: &str, now: i64) -> Result<TriggerView, AppError> {
    let id = parse_id(id)?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let t = store::get(&mut conn, &id).await.map_err(not_found(&id))?;
    drop(conn);
    view(db, t, now).await
}

/// Waits up to `wait` for webhook `id`'s next delivery as a test event
/// (see [`Deliveries::listen`]): not found for no trigger, a bad request
/// for a schedule.
pub async fn listen_for_test(
    db: &Db,
    deliveries: &Deliveries,
    id: &str,
    wait: std::time::Duration,
) -> Result<Option<TestEvent>, AppError> {
    let id = parse_id(id)?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let t = store::get(&mut conn, &id).await.map_err(not_found(&id))?;
    drop(conn);
    if !matches!(t.spec, TriggerSpec::Webhook(_)) {
        return Err(AppError::bad_request("only a webhook receives test events"));
    }
    deliveries.listen(db, &t.id, wait).await
}

/// A workflow's triggers, oldest first.
pub async fn list(db: &Db, workflow_id: &str, now: i64) -> Result<Vec<TriggerView>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let all = store::list(&mut conn, workflow_id).await?;
    drop(conn);
    let mut out = Vec::with_capacity(all.len());
    for t in all {
        out.push(view(db, t, now).await?);
    }
    Ok(out)
}

async fn view(db: &Db, t: Trigger, now: i64) -> Result<TriggerView, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let events = store::events(&mut conn, &t.id, VIEW_EVENTS).await?;
    let listening = crate::store::test_listens::listening(&mut conn, &t.id, now).await?;
    drop(conn);
    let next_fires = match &t.spec {
        TriggerSpec::Schedule(s) if !t.paused => match Schedule::new(s) {
            Ok(sched) => sched
                .next_n(now, 5)
                .into_iter()
                .map(|at| NextFire {
                    at,
                    local: sched.local(at),
                })
                .collect(),
            Err(_) => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(TriggerView {
        url_path: t.hook_path(),
        listening,
        trigger: t,
        next_fires,
        events,
    })
}
