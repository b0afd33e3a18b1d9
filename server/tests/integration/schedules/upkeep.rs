//! Pausing, exactly once, jitter, nothing published, pruning, deletion.

use super::{HOUR, MIN, at, hour0, outcomes, published, runs_of, schedule};
use crate::common::world::{Now, World};
use app::domain::audit::Actor;
use serde_json::json;

#[tokio::test]
async fn a_schedule_pauses_itself_after_failed_runs_and_records_why() {
    let w = World::new().await;
    w.clock.set(hour0() - MIN);
    let wf = published(&w, false, true).await;
    let t = schedule(
        &w,
        &wf,
        json!({"when": {"every_ms": MIN}, "pause_after_failures": 2}),
    )
    .await;
    at(&w, hour0()).await;
    at(&w, hour0() + MIN).await;
    at(&w, hour0() + 2 * MIN).await;
    at(&w, hour0() + 3 * MIN).await;
    let runs = runs_of(&w, &t).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|r| r.1 == "failed"));
    let view = app::ops::triggers::get(&w.db, &t, w.clock.now_ms())
        .await
        .unwrap();
    assert!(view.trigger.paused);
    assert!(
        view.trigger
            .paused_reason
            .unwrap()
            .contains("2 failed runs in a row")
    );
    assert!(view.next_fires.is_empty());
    // a person resumes it: it counts from now
    app::ops::triggers::set_paused(&w.db, &Actor::anonymous(), &t, false, hour0() + 10 * MIN)
        .await
        .unwrap();
    w.clock.set(hour0() + 10 * MIN);
    assert_eq!(at(&w, hour0() + 11 * MIN).await, 1);
}

#[tokio::test]
async fn a_nominal_time_fired_before_a_restart_or_by_another_process_never_runs_twice() {
    let w = World::new().await;
    w.clock.set(hour0() - MIN);
    let wf = published(&w, false, false).await;
    let t = schedule(&w, &wf, json!({"when": {"every_ms": HOUR}})).await;
    assert_eq!(at(&w, hour0()).await, 1);
    // an old process's view: the schedule's pointer back before the fire
    app::store::conn::query("UPDATE triggers SET next_nominal = $1 WHERE id = $2")
        .bind(hour0())
        .bind(&t)
        .execute(&mut w.db.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(at(&w, hour0() + 5000).await, 0);
    assert_eq!(runs_of(&w, &t).await.len(), 1);
    // two schedulers at once on the same database
    let other = crate::common::engine(w.db.clone(), w.clock.clone(), 30_000);
    w.clock.set(hour0() + HOUR);
    let (a, b) = tokio::join!(w.engine.fire_schedules(), other.fire_schedules());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(runs_of(&w, &t).await.len(), 2);
}

#[tokio::test]
async fn the_summary_of_fires_missed_during_downtime_is_recorded_once_by_two_schedulers() {
    let w = World::new().await;
    w.clock.set(hour0() - MIN);
    let wf = published(&w, false, false).await;
    let t = schedule(
        &w,
        &wf,
        json!({"when": {"every_ms": MIN}, "catch_up": {"policy": "none"}}),
    )
    .await;
    // down for five hours: 300 fires due, the oldest counted in one summary
    let back = hour0() + 5 * HOUR;
    w.clock.set(back);
    let other = crate::common::engine(w.db.clone(), w.clock.clone(), 30_000);
    let (a, b) = tokio::join!(w.engine.fire_schedules(), other.fire_schedules());
    a.unwrap();
    b.unwrap();
    let outs = outcomes(&w, &t).await;
    let summaries = outs.iter().filter(|e| e.0 == "missed" && e.1.is_none());
    assert_eq!(summaries.count(), 1, "{outs:?}");
    let mut nominal: Vec<i64> = outs.iter().filter_map(|e| e.1).collect();
    assert_eq!(
        nominal.len(),
        100,
        "the newest 100 fires one by one: {outs:?}"
    );
    nominal.dedup();
    assert_eq!(nominal.len(), 100, "each once: {outs:?}");
}

#[tokio::test]
async fn jitter_delays_a_fire_but_never_past_the_next_nominal_time() {
    let w = World::new().await;
    w.clock.set(hour0() - MIN);
    let wf = published(&w, false, false).await;
    let t = schedule(
        &w,
        &wf,
        json!({"when": {"every_ms": MIN}, "jitter_ms": 10 * MIN}),
    )
    .await;
    let mut now = hour0() - MIN;
    while now < hour0() + 5 * MIN {
        now += 1000;
        at(&w, now).await;
    }
    let outs = outcomes(&w, &t).await;
    let started: Vec<_> = outs.iter().filter(|o| o.0 == "started").collect();
    assert!(started.len() >= 4, "{outs:?}");
    let fired_at: Vec<(i64, i64)> = app::store::conn::query_as("SELECT e.nominal_at, r.created_at FROM trigger_events e JOIN runs r ON r.id = e.run_id WHERE e.trigger_id = $1",
    )
    .bind(&t)
    .fetch_all(&mut w.db.acquire().await.unwrap())
    .await
    .unwrap();
    // The scheduler is asked once a second here, so a run starts at the
    // first tick at or after its jittered time; that time itself is always
    // before the next nominal time (a tick may land on it, never the fire).
    for (nominal, created) in fired_at {
        let fire_at = nominal
            + app::domain::triggers::schedule::jitter(
                &t,
                nominal,
                Some(nominal + MIN),
                10 * MIN as u64,
            );
        assert!(
            fire_at >= nominal && fire_at < nominal + MIN,
            "{nominal} {fire_at}"
        );
        assert!(
            created >= fire_at && created < fire_at + 1000,
            "{nominal} {fire_at} {created}"
        );
    }
}

#[tokio::test]
async fn without_a_published_version_a_fire_is_recorded_as_skipped_with_why() {
    let w = World::new().await;
    w.clock.set(hour0() - MIN);
    let wf = published(&w, false, false).await;
    let t = schedule(&w, &wf, json!({"when": {"every_ms": HOUR}})).await;
    app::ops::workflows::unpublish(&w.db, &Actor::anonymous(), &wf, hour0() - 1)
        .await
        .unwrap();
    at(&w, hour0()).await;
    let view = app::ops::triggers::get(&w.db, &t, hour0()).await.unwrap();
    assert_eq!(
        view.events[0].outcome,
        app::domain::triggers::EventOutcome::Skipped
    );
    assert!(
        view.events[0].detail.contains("no published version"),
        "{:?}",
        view.events
    );
    assert_eq!(view.next_fires.len(), 5);
    assert_eq!(view.next_fires[0].at, hour0() + HOUR);
}

#[tokio::test]
async fn a_triggers_history_is_pruned_to_its_newest_thousand_keeping_live_delivery_keys() {
    let w = World::new().await;
    let wf = published(&w, false, false).await;
    let t = schedule(&w, &wf, json!({"when": {"every_ms": HOUR}})).await;
    let now = w.clock.now_ms();
    // 1,200 old fires, and among the oldest a delivery key still in its window
    for i in 0..1_200i64 {
        app::store::conn::query("INSERT INTO trigger_events (trigger_id, at, outcome, nominal_at, delivery_key) VALUES ($1, $2, 'missed', $3, $4)")
            .bind(&t)
            .bind(now - 1_000_000 + i)
            .bind(i)
            .bind((i == 3).then_some("key:live"))
            .execute(&mut w.db.acquire().await.unwrap())
            .await
            .unwrap();
    }
    w.engine.prune_trigger_events().await.unwrap();
    let left: i64 =
        app::store::conn::query_scalar("SELECT COUNT(*) FROM trigger_events WHERE trigger_id = $1")
            .bind(&t)
            .fetch_one(&mut w.db.acquire().await.unwrap())
            .await
            .unwrap();
    assert_eq!(left, 1_001);
    let kept: i64 = app::store::conn::query_scalar(
        "SELECT COUNT(*) FROM trigger_events WHERE delivery_key = 'key:live'",
    )
    .fetch_one(&mut w.db.acquire().await.unwrap())
    .await
    .unwrap();
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn a_deleted_workflows_schedule_neither_fires_nor_keeps_the_scheduler_awake() {
    let w = World::new().await;
    w.clock.set(hour0() - MIN);
    let wf = published(&w, false, false).await;
    let t = schedule(&w, &wf, json!({"when": {"every_ms": HOUR}})).await;
    assert_eq!(w.engine.next_schedule().await.unwrap(), Some(hour0()));
    app::ops::workflows::delete(&w.db, &Actor::anonymous(), &wf, hour0() - 1)
        .await
        .unwrap();
    assert_eq!(w.engine.next_schedule().await.unwrap(), None);
    assert_eq!(at(&w, hour0() + HOUR).await, 0);
    assert!(runs_of(&w, &t).await.is_empty());
}
