//! Tests of the designer's graph edits.

use super::*;
use crate::domain::example::invoice_approval;

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn copy_paste_keeps_inner_edges_with_fresh_ids() {
    let mut def = WorkflowDef::minimal();
    let f = copy(&def, &set(&["start", "end"]));
    assert_eq!(f.edges.len(), 1);
    let ids = paste(&mut def, &f, (40.0, 40.0));
    assert_eq!(ids, set(&["end_1", "start_1"]));
    assert!(def.edges.contains(&Edge::new("start_1", "out", "end_1")));
    let s1 = def.node("start_1").unwrap();
    assert_eq!((s1.position.x, s1.position.y), (120.0, 160.0));
    assert_eq!(s1.name, "Start (copy)");
    // a second paste of the copy takes the next free number
    let f = copy(&def, &set(&["end_1"]));
    let again = paste(&mut def, &f, (0.0, 0.0));
    assert_eq!(again, set(&["end_2"]));
    // an edge to outside the selection is not copied
    assert!(copy(&def, &set(&["start"])).edges.is_empty());
}

#[test]
fn remove_takes_the_edges_along() {
    let mut def = invoice_approval();
    let before = def.nodes.len();
    let id = def.nodes[1].id.clone();
    remove(&mut def, &set(&[&id]));
    assert_eq!(def.nodes.len(), before - 1);
    assert!(def.edges.iter().all(|e| e.from != id && e.to != id));
}

#[test]
fn the_next_step_connects_to_the_first_free_port() {
    let mut def = WorkflowDef::minimal();
    assert_eq!(free_port(&def, "start"), None, "start already leads to end");
    assert_eq!(free_port(&def, "end"), None, "End has no ports");
    def.edges.clear();
    assert_eq!(free_port(&def, "start").as_deref(), Some("out"));
    let (x, y) = place_after(&def, "start").unwrap();
    assert_eq!(
        (x, y),
        (320.0, 220.0),
        "below End, which sits right of Start"
    );
}

fn with_node(mut def: WorkflowDef, kind: &str) -> (WorkflowDef, String) {
    let n = super::super::palette::new_node(&def, kind, 0.0, 0.0).unwrap();
    let id = n.id.clone();
    def.nodes.push(n);
    (def, id)
}

/// Regression (issue 13): adding after a step whose port was taken
/// left the new step unconnected while the dialog said it connects it.
#[test]
fn adding_after_a_taken_port_puts_the_new_step_between_and_says_so() {
    let (mut def, t) = with_node(WorkflowDef::minimal(), "transform");
    let note = connect_after(&mut def, "start", &t);
    assert!(def.edges.contains(&Edge::new("start", "out", &t)));
    assert!(def.edges.contains(&Edge::new(&t, "out", "end")));
    assert!(!def.edges.contains(&Edge::new("start", "out", "end")));
    assert_eq!(
        note,
        "Added “New transform” between “Start” and “End”: “Start” had no free output."
    );
    // a free port is simply used
    let (mut def, t2) = with_node(def, "transform");
    def.edges.retain(|e| e.from != t);
    assert_eq!(
        connect_after(&mut def, &t, &t2),
        "Added “New transform” after “New transform”."
    );
    assert!(def.edges.contains(&Edge::new(&t, "out", &t2)));
}

#[test]
fn a_step_that_ends_a_path_is_not_put_between_and_the_note_says_why() {
    let (mut def, f) = with_node(WorkflowDef::minimal(), "fail");
    let before = def.edges.clone();
    let note = connect_after(&mut def, "start", &f);
    assert_eq!(def.edges, before, "nothing rewired");
    assert!(note.contains("not connected"), "{note}");
    assert!(note.contains("ends a path"), "{note}");
}

#[test]
fn inserting_on_a_connection_splits_it() {
    let (mut def, b) = with_node(invoice_approval(), "transform");
    let on = Edge::new("extract", "out", "route");
    insert_between(&mut def, std::slice::from_ref(&on), &b).unwrap();
    assert!(!def.edges.contains(&on));
    assert!(def.edges.contains(&Edge::new("extract", "out", &b)));
    assert!(def.edges.contains(&Edge::new(&b, "out", "route")));
    assert_eq!(
        crate::domain::validate::validate(&def).len(),
        0,
        "still valid"
    );
}

#[test]
fn arrow_keys_follow_connections_and_columns() {
    let def = invoice_approval();
    assert_eq!(
        neighbour(&def, "start", "ArrowRight").as_deref(),
        Some("extract")
    );
    assert_eq!(
        neighbour(&def, "extract", "ArrowLeft").as_deref(),
        Some("start")
    );
    assert_eq!(neighbour(&def, "start", "ArrowLeft"), None);
    // route leads to approve first (its "large" port)
    assert_eq!(
        neighbour(&def, "route", "ArrowRight").as_deref(),
        Some("approve")
    );
    // "Rejected" sits above "Ready to post" in the same column
    assert_eq!(
        neighbour(&def, "merge", "ArrowUp").as_deref(),
        Some("rejected")
    );
    assert_eq!(
        neighbour(&def, "rejected", "ArrowDown").as_deref(),
        Some("merge")
    );
    assert_eq!(neighbour(&def, "nope", "ArrowDown"), None);
}

#[test]
fn connecting_takes_a_free_output_then_the_error_path_then_adds_a_path() {
    let mut def = invoice_approval();
    let note = connect(&mut def, "post_ledger", "rejected");
    assert!(
        def.edges
            .contains(&Edge::new("post_ledger", "error", "rejected")),
        "{note}"
    );
    assert_eq!(note, "Connected “Post to ledger” (error) to “Rejected”.");
    assert_eq!(
        connect(&mut def, "post_ledger", "rejected"),
        "“Post to ledger” already leads to “Rejected”."
    );
    // out and error taken: out leads to both
    connect(&mut def, "post_ledger", "merge");
    assert!(
        def.edges
            .contains(&Edge::new("post_ledger", "out", "merge"))
    );
    assert!(connect(&mut def, "done", "merge").contains("no outputs"));
}

#[test]
fn moves_snap_to_the_grid() {
    let mut def = WorkflowDef::minimal();
    move_by(&mut def, &set(&["end"]), (100.0, -200.0));
    let p = def.node("end").unwrap().position;
    assert_eq!((p.x, p.y), (460.0, 0.0), "never above the origin");
}

#[test]
fn renaming_an_llm_label_takes_its_connections_along() {
    let mut def = WorkflowDef::minimal();
    let llm = super::super::palette::new_node(&def, "llm", 0.0, 0.0).unwrap();
    let id = llm.id.clone();
    def.nodes.push(llm);
    def.edges = vec![
        Edge::new("start", "out", &id),
        Edge::new(&id, "yes", "end"),
        Edge::new(&id, "no", "end"),
    ];
    rename_label(&mut def, &id, 0, "refund");
    assert!(def.edges.contains(&Edge::new(&id, "refund", "end")));
    assert!(
        def.edges.contains(&Edge::new(&id, "no", "end")),
        "other labels keep theirs"
    );
    let NodeKind::Llm(c) = &def.node(&id).unwrap().kind else {
        panic!("an LLM step")
    };
    assert_eq!(c.labels[0].name, "refund");
    rename_label(&mut def, &id, 9, "nothing");
    rename_label(&mut def, "start", 0, "nothing");
    assert_eq!(
        def.edges.len(),
        3,
        "a label or step that is not there changes nothing"
    );
}
