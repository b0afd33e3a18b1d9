//! Schedules on the manual clock: fires, every overlap and catch-up policy,
//! DST in the engine's hands, pause, jitter, and no second run for a
//! nominal time whatever happens between.

use crate::common::world::{Now, World};
use app::domain::audit::Actor;
use app::domain::run::RunStatus;
use app::domain::triggers::TriggerInput;
use serde_json::{Value, json};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// A published workflow; `slow` adds a 10-minute delay so runs overlap.
async fn published(w: &World, slow: bool, fail: bool) -> String {
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
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    wf.workflow_id
}

async fn schedule(w: &World, wf: &str, spec: Value) -> String {
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
async fn at(w: &World, t: i64) -> usize {
    w.clock.set(t);
    let n = w.engine.fire_schedules().await.unwrap();
    w.idle().await;
    // queued fires start once the runs before them ended
    n + w.engine.fire_schedules().await.unwrap()
}

async fn outcomes(w: &World, trigger: &str) -> Vec<(String, Option<i64>)> {
    sqlx::query_as("SELECT outcome, nominal_at FROM trigger_events WHERE trigger_id = ? ORDER BY nominal_at, id")
        .bind(trigger)
        .fetch_all(&w.db.pool)
        .await
        .unwrap()
}

async fn runs_of(w: &World, trigger: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT id, status FROM runs WHERE trigger_id = ? ORDER BY created_at, id")
        .bind(trigger)
        .fetch_all(&w.db.pool)
        .await
        .unwrap()
}

/// T0 rounded up to the hour (fires of an hourly schedule land on it).
fn hour0() -> i64 {
    (crate::common::world::T0 / HOUR + 1) * HOUR
}

#[tokio::test]
async fn an_interval_fires_once_per_nominal_time_with_the_input_and_its_mapping() {
    let w = World::new().await;
    w.clock.set(hour0() - MIN);
    let wf = published(&w, false, false).await;
    let t = schedule(
        &w,
        &wf,
        json!({"when": {"every_ms": HOUR}, "input": {"a": 1},
        "mapping": "{a: .input.a, at: .nominal_ms}"}),
    )
    .await;
    assert_eq!(at(&w, hour0() - 1).await, 0);
    assert_eq!(at(&w, hour0()).await, 1);
    assert_eq!(
        at(&w, hour0() + 1000).await,
        0,
        "the same nominal time never fires twice"
    );
    assert_eq!(at(&w, hour0() + HOUR).await, 1);
    let runs = runs_of(&w, &t).await;
    assert_eq!(runs.len(), 2);
    let first = w.run(&runs[0].0).await.run;
    assert_eq!(first.input, json!({"a": 1, "at": hour0()}));
    assert_eq!(first.origin, app::domain::run::RunOrigin::Schedule);
    assert_eq!(first.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn overlap_skip_buffer_one_allow_all_and_cancel_other() {
    for (policy, expect_runs, expect_outcomes) in [
        ("skip", 1, ["started", "skipped", "skipped"]),
        ("buffer_one", 2, ["started", "started", "skipped"]),
        ("allow_all", 3, ["started", "started", "started"]),
        ("cancel_other", 3, ["started", "started", "started"]),
    ] {
        let w = World::new().await;
        w.clock.set(hour0() - MIN);
        let wf = published(&w, true, false).await;
        let t = schedule(
            &w,
            &wf,
            json!({"when": {"every_ms": 5 * MIN}, "overlap": policy}),
        )
        .await;
        // fires at 0, 5 and 10 minutes; each run takes ten: the first is
        // still going at every fire (it ends at 10, after the fire looked)
        for m in [0, 5, 10] {
            at(&w, hour0() + m * MIN).await;
        }
        let outs: Vec<String> = outcomes(&w, &t).await.into_iter().map(|o| o.0).collect();
        assert_eq!(outs, expect_outcomes, "{policy}");
        let runs = runs_of(&w, &t).await;
        assert_eq!(runs.len(), expect_runs, "{policy}: {runs:?}");
        let cancelled = runs.iter().filter(|r| r.1 == "cancelled").count();
        assert_eq!(
            cancelled,
            if policy == "cancel_other" { 2 } else { 0 },
            "{policy}: {runs:?}"
        );
    }
}

#[tokio::test]
async fn catch_up_after_downtime_none_latest_and_all_in_turn() {
    for (policy, started, missed) in [
        (json!({"policy": "none"}), 0, 6),
        (json!({"policy": "latest"}), 1, 5),
        (json!({"policy": "all", "window_ms": 3 * HOUR}), 3, 3),
    ] {
        let w = World::new().await;
        w.clock.set(hour0() - MIN);
        let wf = published(&w, false, false).await;
        let t = schedule(
            &w,
            &wf,
            json!({"when": {"every_ms": HOUR}, "catch_up": policy}),
        )
        .await;
        // the server was down from before hour0 until 5h30 later: six
        // fires (0h..5h) were due, none of them on time
        let back = hour0() + 5 * HOUR + 30 * MIN;
        at(&w, back).await;
        for _ in 0..5 {
            at(&w, back).await; // fires caught up start one after another
        }
        let outs = outcomes(&w, &t).await;
        let n = |o: &str| outs.iter().filter(|e| e.0 == o).count();
        assert_eq!(
            (n("started"), n("missed")),
            (started, missed),
            "{policy}: {outs:?}"
        );
        assert_eq!(runs_of(&w, &t).await.len(), started);
    }
}

#[tokio::test]
async fn spring_forward_and_fall_back_in_berlin_and_new_york_fire_once() {
    use chrono::TimeZone;
    for (tz, spring, fall) in [
        ("Europe/Berlin", (2026, 3, 29), (2026, 10, 25)),
        ("America/New_York", (2026, 3, 8), (2026, 11, 1)),
    ] {
        let z: chrono_tz::Tz = tz.parse().unwrap();
        let day = |(y, m, d): (i32, u32, u32), h| {
            z.with_ymd_and_hms(y, m, d, h, 0, 0)
                .earliest()
                .unwrap()
                .timestamp_millis()
        };
        let w = World::new().await;
        w.clock.set(day(spring, 0));
        let wf = published(&w, false, false).await;
        let t = schedule(
            &w,
            &wf,
            json!({"when": {"cron": "30 2 * * *"}, "time_zone": tz}),
        )
        .await;
        // step through the night of the change a minute at a time
        let mut fired = 0;
        let mut now = day(spring, 0);
        while now < day(spring, 6) {
            now += MIN;
            fired += at(&w, now).await;
        }
        assert_eq!(fired, 1, "{tz} spring");
        // the fire was at the first instant after the gap (03:00 local)
        let nominal = outcomes(&w, &t).await[0].1.unwrap();
        assert_eq!(nominal, day(spring, 3), "{tz}");
        // pause over the summer; resumed, it counts from then
        app::ops::triggers::set_paused(&w.db, &Actor::anonymous(), &t, true, day(spring, 6))
            .await
            .unwrap();
        app::ops::triggers::set_paused(&w.db, &Actor::anonymous(), &t, false, day(fall, 0))
            .await
            .unwrap();
        let mut now = day(fall, 0);
        let mut fired = 0;
        while now < day(fall, 6) {
            now += MIN;
            fired += at(&w, now).await;
        }
        assert_eq!(fired, 1, "{tz} fall");
    }
}

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
    let view = app::ops::triggers::get(&w.db, &t, None, w.clock.now_ms())
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
    sqlx::query("UPDATE triggers SET next_nominal = ? WHERE id = ?")
        .bind(hour0())
        .bind(&t)
        .execute(&w.db.pool)
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
    let fired_at: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT e.nominal_at, r.created_at FROM trigger_events e JOIN runs r ON r.id = e.run_id WHERE e.trigger_id = ?",
    )
    .bind(&t)
    .fetch_all(&w.db.pool)
    .await
    .unwrap();
    for (nominal, created) in fired_at {
        assert!(
            created >= nominal && created < nominal + MIN,
            "{nominal} {created}"
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
    let view = app::ops::triggers::get(&w.db, &t, None, hour0())
        .await
        .unwrap();
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
        sqlx::query("INSERT INTO trigger_events (trigger_id, at, outcome, nominal_at, delivery_key) VALUES (?, ?, 'missed', ?, ?)")
            .bind(&t)
            .bind(now - 1_000_000 + i)
            .bind(i)
            .bind((i == 3).then_some("key:live"))
            .execute(&w.db.pool)
            .await
            .unwrap();
    }
    w.engine.prune_trigger_events().await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trigger_events WHERE trigger_id = ?")
        .bind(&t)
        .fetch_one(&w.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 1_001);
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM trigger_events WHERE delivery_key = 'key:live'")
            .fetch_one(&w.db.pool)
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
