//! Schedules on the manual clock: fires, every overlap and catch-up policy,
//! DST in the engine's hands, pause, jitter, and no second run for a
//! nominal time whatever happens between.

use crate::common::world::{Now, World};
use app::domain::audit::Actor;
use app::domain::triggers::TriggerInput;
use serde_json::{Value, json};

mod policies;
mod upkeep;

pub(super) const MIN: i64 = 60_000;
pub(super) const HOUR: i64 = 60 * MIN;

/// A published workflow; `slow` adds a 10-minute delay so runs overlap.
pub(super) async fn published(w: &World, slow: bool, fail: bool) -> String {
    let mut nodes = vec![json!({"id": "start", "name": "Start", "type": "start"})];
    let mut edges = vec![];
    let mut last = "start";
    if slow {
        nodes.push(json!({"id": "wait", "name": "Wait", "type": "delay", "duration_ms": 10 * MIN}));
        edges.push(json!({"from": last, "to": "wait"}));
        last = "wait";
    }
    if fail {
        nodes.push(json!({"id": "boom", "name": "Boom", "type": "transform", "expression": "error(\"no\")",
                          "retry": {"transient": {"max_attempts": 1}, "business": {"max_attempts": 1}, "format": {"max_attempts": 1}}}));
        edges.push(json!({"from": last, "to": "boom"}));
        last = "boom";
    }
    nodes.push(json!({"id": "end", "name": "End", "type": "end", "output": "."}));
    edges.push(json!({"from": last, "to": "end"}));
    let def = serde_json::from_value(json!({"nodes": nodes, "edges": edges})).unwrap();
    let wf = app::ops::workflows::create(
        &w.db,
        &Actor::anonymous(),
        &format!("wf {}", fastrand::u64(..)),
        &def,
        false,
        w.clock.now_ms(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    app::ops::workflows::publish(
        &w.db,
        &Actor::anonymous(),
        &wf.workflow_id,
        1,
        app::ops::workflows::Gate::Check(None),
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    wf.workflow_id
}

pub(super) async fn schedule(w: &World, wf: &str, spec: Value) -> String {
    let mut body = json!({"name": "every", "kind": "schedule"});
    body.as_object_mut()
        .unwrap()
        .extend(spec.as_object().unwrap().clone());
    let input: TriggerInput = serde_json::from_value(body).unwrap();
    let sealer = app::security::Sealer::new([1; 32]);
    app::ops::triggers::create(
        &w.db,
        &sealer,
        &Actor::anonymous(),
        wf,
        input,
        w.clock.now_ms(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"))
    .trigger
    .trigger
    .id
    .to_string()
}

/// Moves the clock to `t`, fires what is due and runs the engine idle.
pub(super) async fn at(w: &World, t: i64) -> usize {
    w.clock.set(t);
    let n = w.engine.fire_schedules().await.unwrap();
    w.idle().await;
    // queued fires start once the runs before them ended
    n + w.engine.fire_schedules().await.unwrap()
}

pub(super) async fn outcomes(w: &World, trigger: &str) -> Vec<(String, Option<i64>)> {
    app::store::conn::query_as("SELECT outcome, nominal_at FROM trigger_events WHERE trigger_id = $1 ORDER BY nominal_at, id")
        .bind(trigger)
        .fetch_all(&mut w.db.acquire().await.unwrap())
        .await
        .unwrap()
}

pub(super) async fn runs_of(w: &World, trigger: &str) -> Vec<(String, String)> {
    app::store::conn::query_as(
        "SELECT id, status FROM runs WHERE trigger_id = $1 ORDER BY created_at, id",
    )
    .bind(trigger)
    .fetch_all(&mut w.db.acquire().await.unwrap())
    .await
    .unwrap()
}

/// T0 rounded up to the hour (fires of an hourly schedule land on it).
pub(super) fn hour0() -> i64 {
    (crate::common::world::T0 / HOUR + 1) * HOUR
}
