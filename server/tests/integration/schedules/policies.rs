//! Fires, overlap, catch-up and DST.

use super::{HOUR, MIN, at, hour0, outcomes, published, runs_of, schedule};
use crate::common::world::World;
use app::domain::audit::Actor;
use app::domain::run::RunStatus;
use serde_json::json;

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
