//! A run's number in its workflow (#1, #2, ...): kept from its start, so
//! it never changes when older runs go, and an item run goes by its root
//! run's number.

use crate::common::world::*;
use app::domain::audit::Actor;
use app::domain::ids::RunId;
use serde_json::json;
use server::engine::retention::RetentionConfig;

const DAY: i64 = 86_400_000;

async fn workflow(w: &World, name: &str) -> String {
    let (body, edges) = crate::foreach::doubling(".item * 2");
    let def = crate::foreach::looped(crate::foreach::over(".input.items", 2), body, edges);
    app::ops::workflows::create(&w.db, &Actor::anonymous(), name, &def, false, T0)
        .await
        .unwrap()
        .workflow_id
}

async fn start(w: &World, wf: &str) -> RunId {
    app::ops::runs::start(
        &w.db,
        &Actor::anonymous(),
        wf,
        None,
        &json!({"items": [1, 2]}),
        app::ops::runs::Via::Api,
        w.clock.now_ms(),
    )
    .await
    .unwrap()
}

async fn number(w: &World, run: &RunId) -> i64 {
    w.run(run.as_str()).await.number
}

#[tokio::test]
async fn runs_are_numbered_per_workflow_and_an_item_run_goes_by_its_root_runs_number() {
    let w = World::new().await;
    let (a, b) = (workflow(&w, "a").await, workflow(&w, "b").await);
    let a1 = start(&w, &a).await;
    let b1 = start(&w, &b).await;
    let a2 = start(&w, &a).await;
    w.idle().await;
    assert_eq!(
        (
            number(&w, &a1).await,
            number(&w, &a2).await,
            number(&w, &b1).await
        ),
        (1, 2, 1)
    );
    let item: String =
        app::store::conn::query_scalar("SELECT id FROM runs WHERE item_root = $1 LIMIT 1")
            .bind(a2.as_str())
            .fetch_one(&mut w.db.acquire().await.unwrap())
            .await
            .unwrap();
    assert_eq!(number(&w, &RunId::from_stored(item)).await, 2);
}

#[tokio::test]
async fn a_runs_number_stays_when_retention_removes_older_runs() {
    let w = World::new().await;
    let wf = workflow(&w, "kept 30 days").await;
    for _ in 0..2 {
        start(&w, &wf).await;
    }
    w.idle().await;
    w.clock.advance(31 * DAY);
    let third = start(&w, &wf).await;
    w.idle().await;
    app::ops::workflows::set_retention(&w.db, &Actor::anonymous(), &wf, Some(30), w.clock.now_ms())
        .await
        .unwrap();
    let config = RetentionConfig {
        default_days: 0,
        batch: 10,
        target: std::time::Duration::from_secs(3600),
        pause: std::time::Duration::ZERO,
    };
    let swept = w.engine.sweep_retention(&config, None).await.unwrap();
    assert_eq!(swept.runs, 2, "the two older runs went");
    assert_eq!(number(&w, &third).await, 3, "the third run is still #3");
    let fourth = start(&w, &wf).await;
    assert_eq!(number(&w, &fourth).await, 4, "and the next is #4");
}

#[tokio::test]
async fn starts_of_one_workflow_side_by_side_get_distinct_numbers() {
    let w = World::new().await;
    let wf = workflow(&w, "busy").await;
    let mut started = vec![];
    for _ in 0..12 {
        let (db, wf, now) = (w.db.clone(), wf.clone(), w.clock.now_ms());
        started.push(tokio::spawn(async move {
            app::ops::runs::start(
                &db,
                &Actor::anonymous(),
                &wf,
                None,
                &json!({"items": []}),
                app::ops::runs::Via::Api,
                now,
            )
            .await
            .unwrap()
        }));
    }
    let mut numbers = vec![];
    for s in started {
        numbers.push(number(&w, &s.await.unwrap()).await);
    }
    numbers.sort();
    assert_eq!(numbers, (1..=12).collect::<Vec<i64>>());
}

/// The migration's own statement numbers the runs an earlier version
/// stored without one as that version counted them: by start time, then
/// id, items left out.
#[tokio::test]
async fn the_migration_numbers_earlier_runs_as_they_were_counted() {
    let w = World::new().await;
    let (a, b) = (workflow(&w, "a").await, workflow(&w, "b").await);
    let mut want = vec![];
    for (wf, n) in [(&a, 1), (&b, 1), (&a, 2), (&a, 3), (&b, 2)] {
        want.push((start(&w, wf).await, n));
        w.clock.advance(1);
    }
    w.idle().await;
    let mut conn = w.db.acquire().await.unwrap();
    app::store::conn::query("UPDATE runs SET number = NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    let migration = match w.db.backend() {
        app::store::conn::Backend::Sqlite => {
            include_str!("../../../migrations/sqlite/20261204000001_run_numbers.sql")
        }
        app::store::conn::Backend::Postgres => {
            include_str!("../../../migrations/postgres/20261204000001_run_numbers.sql")
        }
    };
    let code: String = migration
        .lines()
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let update = code
        .split(';')
        .find(|s| s.trim_start().starts_with("UPDATE runs SET number"))
        .expect("the migration numbers the runs it finds");
    app::store::conn::query(update)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    for (run, n) in want {
        assert_eq!(number(&w, &run).await, n, "run {run}");
    }
    let unnumbered_items: i64 = app::store::conn::query_scalar(
        "SELECT COUNT(*) FROM runs WHERE item_index IS NOT NULL AND number IS NULL",
    )
    .fetch_one(&mut w.db.acquire().await.unwrap())
    .await
    .unwrap();
    assert!(unnumbered_items > 0, "item runs keep no number");
}
