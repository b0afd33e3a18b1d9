//! Server functions of the Triggers panel (the REST API has the same under
//! `/api/v1/workflows/{id}/triggers` and `/api/v1/triggers/{id}`).

#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::domain::triggers::view::{NextFire, TestEvent, TriggerView, WithSecret};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn deliveries() -> Result<crate::ops::triggers::Deliveries, AppError> {
    use_context::<crate::ops::triggers::Deliveries>()
        .ok_or_else(|| AppError::internal(&"deliveries missing from context"))
}

#[cfg(feature = "ssr")]
fn sealer() -> Result<crate::security::Sealer, AppError> {
    use_context::<crate::security::Sealer>()
        .ok_or_else(|| AppError::internal(&"sealer missing from context"))
}

/// The trigger as JSON text (`{"name", "kind", ...}`), read with the
/// messages the REST API gives.
#[cfg(feature = "ssr")]
fn input(json: &str) -> Result<crate::domain::triggers::TriggerInput, AppError> {
    serde_json::from_str(json).map_err(|e| {
        super::failed(AppError::new(
            crate::error::ErrorCode::InvalidInput,
            e.to_string(),
        ))
    })
}

#[server(prefix = "/rpc", endpoint = "list_triggers")]
pub async fn list_triggers(workflow_id: String) -> Result<Vec<TriggerView>, AppError> {
    super::require(Permission::Read, "see triggers")?;
    let now = crate::ops::now_ms();
    crate::ops::triggers::list(&super::db()?, &workflow_id, now).await
}

#[server(prefix = "/rpc", endpoint = "create_trigger")]
pub async fn create_trigger(workflow_id: String, trigger: String) -> Result<WithSecret, AppError> {
    let who = super::require(Permission::EditWorkflows, "add triggers")?;
    let actor = crate::domain::audit::Actor(who.actor);
    let now = crate::ops::now_ms();
    crate::ops::triggers::create(
        &super::db()?,
        &sealer()?,
        &actor,
        &workflow_id,
        input(&trigger)?,
        now,
    )
    .await
    .map_err(super::failed)
}

#[server(prefix = "/rpc", endpoint = "update_trigger")]
pub async fn update_trigger(id: String, trigger: String) -> Result<TriggerView, AppError> {
    let who = super::require(Permission::EditWorkflows, "change triggers")?;
    let actor = crate::domain::audit::Actor(who.actor);
    let now = crate::ops::now_ms();
    crate::ops::triggers::update(&super::db()?, &actor, &id, input(&trigger)?, now)
        .await
        .map_err(super::failed)
}

#[server(prefix = "/rpc", endpoint = "pause_trigger")]
pub async fn pause_trigger(id: String, paused: bool) -> Result<TriggerView, AppError> {
    let who = super::require(Permission::EditWorkflows, "pause triggers")?;
    let actor = crate::domain::audit::Actor(who.actor);
    crate::ops::triggers::set_paused(&super::db()?, &actor, &id, paused, crate::ops::now_ms()).await
}

#[server(prefix = "/rpc", endpoint = "delete_trigger")]
pub async fn delete_trigger(id: String) -> Result<(), AppError> {
    let who = super::require(Permission::EditWorkflows, "delete triggers")?;
    let actor = crate::domain::audit::Actor(who.actor);
    crate::ops::triggers::delete(&super::db()?, &actor, &id, crate::ops::now_ms()).await
}

#[server(prefix = "/rpc", endpoint = "rotate_trigger_key")]
pub async fn rotate_trigger_key(id: String) -> Result<WithSecret, AppError> {
    let who = super::require(Permission::EditWorkflows, "rotate webhook keys")?;
    let actor = crate::domain::audit::Actor(who.actor);
    crate::ops::triggers::rotate_key(&super::db()?, &sealer()?, &actor, &id, crate::ops::now_ms())
        .await
}

#[server(prefix = "/rpc", endpoint = "retire_trigger_key")]
pub async fn retire_trigger_key(id: String) -> Result<TriggerView, AppError> {
    let who = super::require(Permission::EditWorkflows, "retire webhook keys")?;
    let actor = crate::domain::audit::Actor(who.actor);
    crate::ops::triggers::retire_previous_key(&super::db()?, &actor, &id, crate::ops::now_ms())
        .await
}

/// Waits (up to a minute) for the next authenticated delivery to webhook
/// `id`; it starts no run. None when none came.
#[server(prefix = "/rpc", endpoint = "listen_test_event")]
pub async fn listen_test_event(id: String) -> Result<Option<TestEvent>, AppError> {
    super::require(Permission::EditWorkflows, "listen for test events")?;
    let wait = std::time::Duration::from_secs(60);
    crate::ops::triggers::listen_for_test(&super::db()?, &deliveries()?, &id, wait).await
}

/// The next five fire times of a schedule as the form has it now (JSON
/// text of the trigger), or what is wrong with it.
#[server(prefix = "/rpc", endpoint = "preview_schedule")]
pub async fn preview_schedule(trigger: String) -> Result<Vec<NextFire>, AppError> {
    super::require(Permission::Read, "see triggers")?;
    use crate::domain::triggers::{TriggerSpec, schedule::Schedule};
    let t = input(&trigger)?;
    crate::domain::triggers::check(&t)
        .map_err(|m| super::failed(AppError::new(crate::error::ErrorCode::InvalidInput, m)))?;
    let TriggerSpec::Schedule(spec) = &t.spec else {
        return Ok(Vec::new());
    };
    let sched = Schedule::new(spec)
        .map_err(|m| super::failed(AppError::new(crate::error::ErrorCode::InvalidInput, m)))?;
    let now = crate::ops::now_ms();
    Ok(sched
        .next_n(now, 5)
        .into_iter()
        .map(|at| NextFire {
            at,
            local: sched.local(at),
        })
        .collect())
}
