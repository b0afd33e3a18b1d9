//! Bounded loops on the manual clock: revise until approved (a rejection
//! goes back to the draft, which reads the reviewer's comment), a loop that
//! runs out of passes takes its `exhausted` port, or fails saying so.

use crate::approvals::{approve, item, person};
use crate::common::world::*;
use app::domain::auth::Role;
use app::domain::graph::*;
use app::domain::run::{RunStatus, StepStatus};
use app::ops::approvals::{DecisionInput, decide};
use serde_json::json;

/// draft (at most `max` passes) -> review -(out)-> send -> end;
/// review -(rejected)-> draft; with `exhausted`: draft -(exhausted)-> gave_up.
fn revise(max: u32, exhausted: bool) -> WorkflowDef {
    let mut draft = transform(
        "draft",
        "{text: \"draft \\(.steps.review.iterations // [] | length)\", after: (.steps.review.iterations // [] | last | .comment?)}",
    );
    draft.max_iterations = Some(max);
    let mut review = crate::approvals::approval("review", &["approver"], 1);
    if let NodeKind::Approval(a) = &mut review.kind {
        a.title = "Review {{ steps.draft.output.text }}".into();
        a.instructions = "Send it?".into();
    }
    let mut nodes = vec![
        start(),
        draft,
        review,
        transform("send", "{sent: .steps.draft.output.text}"),
        end("end", Some(".steps.send.output")),
    ];
    let mut edges = vec![
        ("start", "out", "draft"),
        ("draft", "out", "review"),
        ("review", "out", "send"),
        ("review", "rejected", "draft"),
        ("send", "out", "end"),
    ];
    if exhausted {
        nodes.push(end("gave_up", Some("{gave_up: true}")));
        edges.push(("draft", "exhausted", "gave_up"));
    }
    let d = def(nodes, edges);
    assert_eq!(app::domain::validate(&d), vec![]);
    d
}

fn reject(comment: &str) -> DecisionInput {
    DecisionInput {
        decision: "reject".into(),
        comment: comment.into(),
        ..Default::default()
    }
}

async fn decide_once(w: &World, run: &app::domain::ids::RunId, d: DecisionInput) {
    let i = item(w, run, "review").await;
    decide(&w.db, &person("ann", Role::Approver), i.id.as_ref(), d, T0)
        .await
        .unwrap();
    w.idle().await;
}

#[tokio::test]
async fn a_rejection_goes_back_to_the_draft_which_reads_the_comment_then_approval_sends() {
    let w = World::new().await;
    let run = w.start(revise(3, false), json!({})).await;
    w.idle().await;
    decide_once(&w, &run, reject("shorter please")).await;
    // the second pass: the draft read the first review's comment
    let draft = w.step(&run, "draft").await;
    assert_eq!(draft.pass, 1);
    assert_eq!(
        draft.output,
        Some(json!({"text": "draft 1", "after": "shorter please"}))
    );
    assert_eq!(draft.iterations.len(), 1, "the first pass's output is kept");
    assert_eq!(draft.iterations[0]["text"], "draft 0");
    let review = w.step(&run, "review").await;
    assert_eq!((review.status, review.pass), (StepStatus::Waiting, 1));
    assert_eq!(review.iterations[0]["comment"], "shorter please");
    decide_once(&w, &run, approve("good")).await;
    let done = w.succeeded(&run).await;
    assert_eq!(done.output, Some(json!({"sent": "draft 1"})));
    // the step log numbers each pass's attempts
    let log = app::ops::runs::attempts(&w.db, run.as_str(), app::domain::records::Paging::FIRST)
        .await
        .unwrap();
    let passes: Vec<i64> = log
        .iter()
        .filter(|a| a.node_id == "draft")
        .map(|a| a.pass)
        .collect();
    assert_eq!(passes, [0, 1]);
    let e = w.event("loop.repeated", Some(run.as_str())).await;
    assert_eq!(e.details["entry"], "draft");
    assert_eq!(e.details["lap"], 1);
}

#[tokio::test]
async fn a_loop_out_of_passes_takes_its_exhausted_port() {
    let w = World::new().await;
    let run = w.start(revise(2, true), json!({})).await;
    w.idle().await;
    decide_once(&w, &run, reject("no")).await;
    decide_once(&w, &run, reject("still no")).await;
    let done = w.succeeded(&run).await;
    assert_eq!(done.output, Some(json!({"gave_up": true})));
    assert_eq!(w.step(&run, "send").await.status, StepStatus::Skipped);
    w.event("loop.exhausted", Some(run.as_str())).await;
}

#[tokio::test]
async fn without_an_exhausted_edge_the_run_fails_naming_the_bound() {
    let w = World::new().await;
    let run = w.start(revise(2, false), json!({})).await;
    w.idle().await;
    decide_once(&w, &run, reject("no")).await;
    decide_once(&w, &run, reject("no")).await;
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Failed);
    let e = r.error.unwrap_or_default();
    assert!(e.contains("ran all its 2 passes (max_iterations)"), "{e}");
    assert!(e.contains("exhausted"), "{e}");
}

/// Regression (simulation seed 1567): an outer loop going round starts
/// its inner loop's count afresh, and every pass of a step is a pass of
/// its own (passes numbered on, never reused).
#[tokio::test]
async fn an_inner_loop_gets_its_full_bound_in_each_pass_of_the_outer_loop() {
    let w = World::new().await;
    let mut outer = transform("l1", "{}");
    outer.max_iterations = Some(2);
    let mut inner = transform("l2", "{}");
    inner.max_iterations = Some(2);
    let again = |id: &str, cond: &str| {
        Node::new(
            id,
            id,
            NodeKind::Branch {
                conditions: vec![BranchCondition {
                    label: "again".into(),
                    expression: cond.into(),
                }],
            },
        )
    };
    let d = def(
        vec![
            start(),
            outer,
            inner,
            again("b2", "(.steps.l2.iterations // [] | length) % 2 == 0"),
            again("b1", "(.steps.l1.iterations // [] | length) < 1"),
            end("end", Some("{inner: (.steps.l2.iterations | length)}")),
        ],
        vec![
            ("start", "out", "l1"),
            ("l1", "out", "l2"),
            ("l2", "out", "b2"),
            ("b2", "again", "l2"),
            ("b2", "default", "b1"),
            ("b1", "again", "l1"),
            ("b1", "default", "end"),
        ],
    );
    assert_eq!(app::domain::validate(&d), vec![]);
    let run = w.start(d, json!({})).await;
    let done = w.succeeded(&run).await;
    // the inner step ran twice in each of the outer loop's two passes
    assert_eq!(done.output, Some(json!({"inner": 3})));
    assert_eq!(w.step(&run, "l2").await.pass, 3);
    let log = app::ops::runs::attempts(&w.db, run.as_str(), app::domain::records::Paging::FIRST)
        .await
        .unwrap();
    let inner: Vec<i64> = log
        .iter()
        .filter(|a| a.node_id == "l2")
        .map(|a| a.pass)
        .collect();
    assert_eq!(inner, [0, 1, 2, 3]);
}
