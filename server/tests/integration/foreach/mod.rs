//! For each on the manual clock: every item runs once as an item run of
//! the body, results keep list order, concurrency and tolerance hold,
//! bodies nest, approvals wait per item, cancelling the run cancels its
//! items, and a list that is not one (or too long) fails the step.

mod bodies;
mod lists;
mod rest;

use crate::common::world::World;
use app::domain::graph::*;
use serde_json::{Value, json};

/// Start -> each (over `items`, body `body` with edges `body_edges`) -> end,
/// the run's output the For each's.
pub(crate) fn looped(
    cfg: ForEachConfig,
    body: Vec<Node>,
    body_edges: Vec<(&str, &str, &str)>,
) -> WorkflowDef {
    let mut nodes = vec![
        Node::new("start", "Start", NodeKind::Start { input_schema: None }),
        Node::new("each", "Each", NodeKind::ForEach(cfg)),
        Node::new(
            "end",
            "End",
            NodeKind::End {
                output: Some(".steps.each.output".into()),
            },
        ),
    ];
    nodes.extend(body.into_iter().map(|n| n.inside("each")));
    let mut edges = vec![
        Edge::new("start", PORT_OUT, "each"),
        Edge::new("each", PORT_OUT, "end"),
    ];
    edges.extend(body_edges.into_iter().map(|(a, p, b)| Edge::new(a, p, b)));
    WorkflowDef {
        nodes,
        edges,
        settings: Settings::default(),
    }
}

/// A body: its Start, one Transform `expr`, its End giving the Transform's output.
pub(crate) fn doubling(expr: &str) -> (Vec<Node>, Vec<(&'static str, &'static str, &'static str)>) {
    (
        vec![
            Node::new("item", "Item", NodeKind::Start { input_schema: None }),
            Node::new(
                "work",
                "Work",
                NodeKind::Transform {
                    expression: expr.into(),
                },
            ),
            Node::new(
                "done",
                "Done",
                NodeKind::End {
                    output: Some(".steps.work.output".into()),
                },
            ),
        ],
        vec![("item", "out", "work"), ("work", "out", "done")],
    )
}

pub(crate) fn over(items: &str, concurrency: u32) -> ForEachConfig {
    ForEachConfig {
        concurrency,
        ..ForEachConfig::over(items)
    }
}

/// The item runs of step `node` of run `run`: (index, status, path).
pub(super) async fn items(w: &World, run: &str, node: &str) -> Vec<(i64, String, String)> {
    app::store::conn::query_as("SELECT item_index, status, item_path FROM runs WHERE parent_run_id = $1 AND parent_node_id = $2
         AND item_index IS NOT NULL ORDER BY item_index",
    )
    .bind(run)
    .bind(node)
    .fetch_all(&mut w.db.acquire().await.unwrap())
    .await
    .unwrap()
}

pub(super) fn output(r: &app::domain::records::RunRecord) -> Value {
    r.output.clone().unwrap_or(json!(null))
}

/// Runs the engine to idle, then past every retry delay (format errors are
/// tried twice), until nothing is left to do.
pub(super) async fn settle(w: &World) {
    for _ in 0..4 {
        w.idle().await;
        w.clock.advance(600_000);
    }
    w.idle().await;
}
