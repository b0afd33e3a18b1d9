//! Lists: order, concurrency, tolerance, bounds.

use super::{doubling, items, looped, output, over};
use crate::common::world::World;
use app::domain::graph::*;
use app::domain::run::{RunOrigin, RunStatus};
use serde_json::json;

#[tokio::test]
async fn every_line_runs_once_as_an_item_run_reading_item_and_index() {
    let w = World::new().await;
    let lines: Vec<_> = (1..=5)
        .map(|i| json!({"sku": format!("s{i}"), "qty": i, "price": 10}))
        .collect();
    let run = w
        .start(app::domain::example::line_items(), json!({"lines": lines}))
        .await;
    let done = w.succeeded(&run).await;
    let out = super::output(&done);
    assert_eq!(
        (out["total"].clone(), out["succeeded"].clone()),
        (json!(5), json!(5))
    );
    assert_eq!(
        out["results"][2],
        json!({"sku": "s3", "index": 2, "total": 30})
    );
    let runs = items(&w, &run, "each_line").await;
    assert_eq!(
        runs.iter().map(|r| r.0).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert!(runs.iter().all(|r| r.1 == "succeeded"));
    // an item run knows its place, and runs only the body
    let mut conn = w.db.acquire().await.unwrap();
    let id: String = app::store::conn::query_scalar(
        "SELECT id FROM runs WHERE parent_run_id = $1 AND item_index = 3",
    )
    .bind(run.as_str())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let item = w.run(&id).await;
    assert_eq!(item.run.origin, RunOrigin::Item);
    let place = item.run.item.clone().unwrap();
    assert_eq!(
        (place.index, place.path.as_str(), place.root.as_str()),
        (3, "3", run.as_str())
    );
    let steps: Vec<&str> = item.steps.iter().map(|s| s.node_id.as_str()).collect();
    assert_eq!(steps, ["line", "price", "priced"]);
    // the workflow's own run has no rows of the body
    assert!(w.run(&run).await.steps.iter().all(|s| s.node_id != "price"));
}

#[tokio::test]
async fn a_thousand_items_at_concurrency_ten_each_run_once_and_keep_their_order() {
    let w = World::new().await;
    let (body, edges) = doubling(".item * 2");
    let list: Vec<i64> = (0..1000).collect();
    let run = w
        .start(
            looped(over(".input.list", 10), body, edges),
            json!({"list": list}),
        )
        .await;
    let mut most = 0;
    loop {
        w.engine.recover().await.unwrap();
        if !w.engine.tick().await.unwrap() {
            break;
        }
        let running: i64 = app::store::conn::query_scalar(
            "SELECT COUNT(*) FROM runs WHERE parent_run_id = $1 AND status = 'running'",
        )
        .bind(run.as_str())
        .fetch_one(&mut w.db.acquire().await.unwrap())
        .await
        .unwrap();
        most = most.max(running);
    }
    assert_eq!(most, 10, "never more than ten items at once, and ten were");
    let done = w.run(&run).await.run;
    assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.error);
    let results = output(&done)["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 1000);
    assert!(
        results
            .iter()
            .enumerate()
            .all(|(i, v)| *v == json!(i as i64 * 2))
    );
    let runs = items(&w, &run, "each").await;
    assert_eq!(runs.len(), 1000, "one item run per item, none twice");
    assert!(runs.iter().enumerate().all(|(i, r)| r.0 == i as i64));
}

/// A body that fails the items marked bad.
fn picky(tolerated: Option<u64>, percent: Option<f64>) -> WorkflowDef {
    let body = vec![
        Node::new("item", "Item", NodeKind::Start { input_schema: None }),
        Node::new(
            "check",
            "Check",
            NodeKind::Branch {
                conditions: vec![BranchCondition {
                    label: "bad".into(),
                    expression: ".item.bad == true".into(),
                }],
            },
        ),
        Node::new(
            "no",
            "No",
            NodeKind::Fail {
                message: "item {{ index }} is bad".into(),
            },
        ),
        Node::new(
            "ok",
            "Ok",
            NodeKind::End {
                output: Some(".item.n".into()),
            },
        ),
    ];
    let edges = vec![
        ("item", "out", "check"),
        ("check", "bad", "no"),
        ("check", "default", "ok"),
    ];
    let mut cfg = over(".input", 1);
    cfg.tolerated_failures = tolerated;
    cfg.tolerated_failure_percent = percent;
    looped(cfg, body, edges)
}

fn list(bad: &[i64], n: i64) -> serde_json::Value {
    json!(
        (0..n)
            .map(|i| json!({"n": i, "bad": bad.contains(&i)}))
            .collect::<Vec<_>>()
    )
}

#[tokio::test]
async fn failures_within_the_tolerance_leave_nulls_and_are_listed() {
    let w = World::new().await;
    let run = w.start(picky(Some(2), None), list(&[1, 3], 5)).await;
    let done = w.succeeded(&run).await;
    let out = output(&done);
    assert_eq!(out["results"], json!([0, null, 2, null, 4]));
    assert_eq!(
        (out["failed"].clone(), out["succeeded"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(out["failures"][1]["index"], 3);
    assert!(
        out["failures"][0]["error"]
            .as_str()
            .unwrap()
            .contains("item 1 is bad")
    );
    // ten percent of twenty is two as well
    let run = w.start(picky(None, Some(10.0)), list(&[1, 3], 20)).await;
    w.succeeded(&run).await;
}

#[tokio::test]
async fn past_the_tolerance_the_step_fails_and_no_further_item_starts() {
    let w = World::new().await;
    let run = w.start(picky(Some(1), None), list(&[1, 2], 6)).await;
    w.idle().await;
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Failed);
    let e = r.error.unwrap_or_default();
    assert!(
        e.contains("2 of 6 items failed, more than the 1 tolerated"),
        "{e}"
    );
    assert!(e.contains("3 were cancelled"), "{e}");
    // one at a time: items 3, 4 and 5 never started
    assert_eq!(items(&w, &run, "each").await.len(), 3);
}

#[tokio::test]
async fn an_items_expression_that_is_no_list_or_too_long_fails_the_step_saying_so() {
    let w = World::new().await;
    let (body, edges) = doubling(".item");
    let run = w
        .start(
            looped(over(".input", 2), body.clone(), edges.clone()),
            json!({"a": 1}),
        )
        .await;
    super::settle(&w).await;
    let r = w.run(&run).await;
    assert_eq!(r.run.status, RunStatus::Failed);
    let step = r.steps.iter().find(|s| s.node_id == "each").unwrap();
    assert_eq!(step.error_class.as_deref(), Some("format"));
    assert!(
        step.error
            .as_deref()
            .unwrap()
            .contains("gave an object, not a list")
    );
    // past the bound for gathered results
    let run = w
        .start(
            looped(over("[range(10001)]", 2), body.clone(), edges.clone()),
            json!({}),
        )
        .await;
    super::settle(&w).await;
    let r = w.run(&run).await;
    let step = r.steps.iter().find(|s| s.node_id == "each").unwrap();
    assert!(
        step.error
            .as_deref()
            .unwrap()
            .contains("10001 items, more than the 10000"),
        "{:?}",
        step.error
    );
    assert!(items(&w, &run, "each").await.is_empty(), "nothing started");
    // an empty list succeeds at once with no results
    let run = w
        .start(looped(over(".input", 2), body, edges), json!([]))
        .await;
    let done = w.succeeded(&run).await;
    assert_eq!(output(&done)["results"], json!([]));
}
