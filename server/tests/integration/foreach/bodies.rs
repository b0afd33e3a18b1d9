//! Bodies: nesting, people inside, cancelling, calls out, retries.

use super::{doubling, items, looped, output, over};
use crate::approvals::{approval, approve, item, person};
use crate::common::receiver::Receiver;
use crate::common::world::World;
use app::domain::audit::Actor;
use app::domain::auth::Role;
use app::domain::graph::*;
use app::domain::ids::RunId;
use app::domain::run::RunStatus;
use serde_json::json;

async fn item_run(w: &World, parent: &str, node: &str, index: i64) -> RunId {
    let id: String = app::store::conn::query_scalar(
        "SELECT id FROM runs WHERE parent_run_id = $1 AND parent_node_id = $2 AND item_index = $3",
    )
    .bind(parent)
    .bind(node)
    .bind(index)
    .fetch_one(&mut w.db.acquire().await.unwrap())
    .await
    .unwrap();
    RunId::from_stored(id)
}

#[tokio::test]
async fn a_for_each_inside_a_body_gives_a_list_of_lists_with_nested_paths() {
    let w = World::new().await;
    let (inner_body, inner_edges) = doubling(".item * 10");
    let mut d = looped(over(".input", 2), vec![], vec![]);
    d.nodes
        .push(Node::new("row", "Row", NodeKind::Start { input_schema: None }).inside("each"));
    d.nodes
        .push(Node::new("cells", "Cells", NodeKind::ForEach(over(".item", 3))).inside("each"));
    d.nodes.push(
        Node::new(
            "row_done",
            "Row done",
            NodeKind::End {
                output: Some(".steps.cells.output.results".into()),
            },
        )
        .inside("each"),
    );
    for n in inner_body {
        d.nodes.push(n.inside("cells"));
    }
    d.edges.push(Edge::new("row", PORT_OUT, "cells"));
    d.edges.push(Edge::new("cells", PORT_OUT, "row_done"));
    for (a, p, b) in inner_edges {
        d.edges.push(Edge::new(a, p, b));
    }
    assert_eq!(app::domain::validate(&d), vec![]);
    let run = w.start(d, json!([[1, 2], [3], []])).await;
    let done = w.succeeded(&run).await;
    assert_eq!(output(&done)["results"], json!([[10, 20], [30], []]));
    let row0 = item_run(&w, &run, "each", 0).await;
    let cells = items(&w, &row0, "cells").await;
    assert_eq!(
        cells.iter().map(|c| c.2.as_str()).collect::<Vec<_>>(),
        ["0.0", "0.1"]
    );
    let cell = w.run(&item_run(&w, &row0, "cells", 1).await).await.run;
    assert_eq!(
        cell.item.unwrap().root,
        run.to_string(),
        "the root is the outermost run"
    );
}

#[tokio::test]
async fn an_approval_inside_the_body_asks_once_per_item_and_each_decision_goes_on() {
    let w = World::new().await;
    let mut ask = approval("ask", &["approver"], 1);
    if let NodeKind::Approval(a) = &mut ask.kind {
        a.title = "Line {{ index }}: {{ item.sku }}".into();
        a.instructions = "Check it".into();
    }
    let body = vec![
        Node::new("item", "Item", NodeKind::Start { input_schema: None }),
        ask,
        Node::new(
            "done",
            "Done",
            NodeKind::End {
                output: Some(".item.sku".into()),
            },
        ),
    ];
    let d = looped(
        over(".input", 2),
        body,
        vec![("item", "out", "ask"), ("ask", "out", "done")],
    );
    let run = w.start(d, json!([{"sku": "a"}, {"sku": "b"}])).await;
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Running);
    let first = item(&w, &item_run(&w, &run, "each", 0).await, "ask").await;
    let second = item(&w, &item_run(&w, &run, "each", 1).await, "ask").await;
    assert_eq!(
        (first.title.as_str(), second.title.as_str()),
        ("Line 0: a", "Line 1: b")
    );
    // the reviewer sees which run and item it belongs to, and that run's input
    let parent = app::ops::approvals::parent_run(&w.db, &second)
        .await
        .unwrap()
        .expect("an item run has a parent");
    assert_eq!(
        (
            parent.run_id.as_str(),
            parent.node_id.as_str(),
            parent.item_index
        ),
        (run.as_str(), "each", Some(1))
    );
    assert_eq!(parent.input, json!([{"sku": "a"}, {"sku": "b"}]));
    let top = w
        .start(
            crate::approvals::flow(approval("solo", &["approver"], 1)),
            json!({"amount": 1, "vendor": "v"}),
        )
        .await;
    w.idle().await;
    let solo = item(&w, &top, "solo").await;
    assert_eq!(
        app::ops::approvals::parent_run(&w.db, &solo).await.unwrap(),
        None
    );
    for i in [&second, &first] {
        app::ops::approvals::decide(
            &w.db,
            &person("ann", Role::Approver),
            i.id.as_ref(),
            approve("fine"),
            2,
        )
        .await
        .unwrap();
        w.idle().await;
    }
    let done = w.succeeded(&run).await;
    assert_eq!(output(&done)["results"], json!(["a", "b"]));
}

#[tokio::test]
async fn cancelling_the_run_cancels_its_running_items_and_starts_no_more() {
    let w = World::new().await;
    let body = vec![
        Node::new("item", "Item", NodeKind::Start { input_schema: None }),
        Node::new(
            "wait",
            "Wait",
            NodeKind::Delay {
                duration_ms: 60_000,
            },
        ),
        Node::new("done", "Done", NodeKind::End { output: None }),
    ];
    let d = looped(
        over(".input", 2),
        body,
        vec![("item", "out", "wait"), ("wait", "out", "done")],
    );
    let run = w.start(d, json!([1, 2, 3, 4])).await;
    w.idle().await;
    assert_eq!(items(&w, &run, "each").await.len(), 2);
    app::ops::runs::cancel(&w.db, &Actor::anonymous(), run.as_str(), 5)
        .await
        .unwrap();
    w.clock.advance(120_000);
    w.idle().await;
    let runs = items(&w, &run, "each").await;
    assert_eq!(runs.len(), 2, "no item started after the cancel");
    assert!(runs.iter().all(|r| r.1 == "cancelled"), "{runs:?}");
}

#[tokio::test]
async fn an_http_step_in_a_body_sends_a_key_naming_the_run_step_and_item() {
    let w = World::new().await;
    let rx = Receiver::scripted(vec![]).await;
    let mut call = Node::new(
        "call",
        "Call",
        NodeKind::Http {
            request: HttpRequest {
                method: "POST".into(),
                url: rx.url.clone(),
                headers: Default::default(),
                body: Some("{{ item }}".into()),
            },
            response_schema: None,
        },
    );
    call.retry.transient.initial_delay_ms = 1;
    let body = vec![
        Node::new("item", "Item", NodeKind::Start { input_schema: None }),
        call,
        Node::new("done", "Done", NodeKind::End { output: None }),
    ];
    let d = looped(
        over(".input", 1),
        body,
        vec![("item", "out", "call"), ("call", "out", "done")],
    );
    let run = w.start(d, json!([7, 8])).await;
    w.succeeded(&run).await;
    assert_eq!(
        rx.calls(),
        [format!("{run}:call:0"), format!("{run}:call:1")]
    );
}

#[tokio::test]
async fn an_item_run_cannot_be_retried_on_its_own_and_says_where_to_retry() {
    let w = World::new().await;
    let (body, edges) = doubling("error(\"no\")");
    let mut cfg = over(".input", 1);
    cfg.tolerated_failures = Some(5);
    let run = w.start(looped(cfg, body, edges), json!([1])).await;
    super::settle(&w).await;
    let item = item_run(&w, &run, "each", 0).await;
    assert_eq!(w.run(&item).await.run.status, RunStatus::Failed);
    let e = app::ops::runs::retry_step(&w.db, &Actor::anonymous(), item.as_str(), "work", None, 9)
        .await
        .unwrap_err();
    assert!(e.message.contains("retry that step there"), "{}", e.message);
}
