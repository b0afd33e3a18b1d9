//! For each frames: bodies are checked as graphs of their own, frames must
//! be For each steps, edges stay inside their frame.

use super::*;
use crate::domain::example::line_items;

fn kinds(def: &WorkflowDef) -> Vec<ProblemKind> {
    validate(def).into_iter().map(|p| p.kind).collect()
}

#[test]
fn a_for_each_with_its_body_is_valid() {
    assert_eq!(validate(&line_items()), vec![]);
}

#[test]
fn a_body_without_start_or_end_names_the_for_each() {
    let mut d = line_items();
    d.nodes.retain(|n| n.id != "line");
    d.edges.retain(|e| e.from != "line");
    let p = validate(&d);
    let missing = p
        .iter()
        .find(|p| p.kind == ProblemKind::MissingStart)
        .expect("a missing Start");
    assert_eq!(missing.node.as_deref(), Some("each_line"));
    assert!(
        missing.message.contains("its body has no Start"),
        "{}",
        missing.message
    );
    // the top-level Start is still the workflow's one Start: no ExtraStart
    assert!(!kinds(&line_items()).contains(&ProblemKind::ExtraStart));
}

#[test]
fn an_edge_across_the_frame_is_refused_and_named_by_its_index() {
    let mut d = line_items();
    d.edges.push(Edge::new("price", PORT_OUT, "end"));
    let p = validate(&d);
    let across: Vec<&Problem> = p
        .iter()
        .filter(|p| p.kind == ProblemKind::EdgeAcrossFrame)
        .collect();
    assert_eq!(across.len(), 1, "{p:#?}");
    assert_eq!(across[0].edge, Some(4));
    assert!(across[0].message.contains("crosses a For each frame"));
}

#[test]
fn edge_problems_inside_a_body_point_at_the_edge_in_the_whole_list() {
    let mut d = line_items();
    d.edges.insert(0, Edge::new("price", "nope", "priced"));
    let p = validate(&d);
    let port = p
        .iter()
        .find(|p| p.kind == ProblemKind::UnknownPort)
        .expect("unknown port");
    assert_eq!(port.edge, Some(0));
}

#[test]
fn a_parent_that_is_not_a_for_each_or_missing_is_refused() {
    let mut d = line_items();
    d.nodes[2].parent = Some("start".into());
    assert!(kinds(&d).contains(&ProblemKind::InvalidFrame));
    let mut d = line_items();
    d.nodes[2].parent = Some("ghost".into());
    let p = validate(&d);
    assert!(
        p.iter()
            .any(|p| p.kind == ProblemKind::InvalidFrame && p.message.contains("does not exist")),
        "{p:#?}"
    );
}

#[test]
fn a_body_reading_an_outer_step_is_told_to_pass_it_in() {
    let mut d = line_items();
    if let NodeKind::Transform { expression } = &mut d.nodes[3].kind {
        *expression = ".steps.start.output".into();
    }
    let p = validate(&d);
    let unknown = p
        .iter()
        .find(|p| p.kind == ProblemKind::UnknownStep)
        .expect("unknown step");
    assert!(
        unknown.message.contains("outside the body"),
        "{}",
        unknown.message
    );
}

#[test]
fn for_each_settings_out_of_range_are_named() {
    let mut d = line_items();
    if let NodeKind::ForEach(f) = &mut d.nodes[1].kind {
        f.concurrency = 0;
        f.tolerated_failure_percent = Some(150.0);
        f.items = " ".into();
    }
    let p = validate(&d);
    let texts: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
    assert!(
        texts
            .iter()
            .any(|m| m.contains("concurrency must be from 1 to 100")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|m| m.contains("tolerated_failure_percent"))
    );
    assert!(texts.iter().any(|m| m.contains("which list to go through")));
}

#[test]
fn frames_nested_too_deep_are_refused() {
    let mut d = line_items();
    // five For each frames inside one another, the last holding a body
    let mut parent = "each_line".to_string();
    for i in 0..5 {
        let id = format!("inner{i}");
        d.nodes.push(
            Node::new(&id, &id, NodeKind::ForEach(ForEachConfig::over(".item"))).inside(&parent),
        );
        parent = id;
    }
    assert!(
        validate(&d)
            .iter()
            .any(|p| p.kind == ProblemKind::InvalidFrame && p.message.contains("nest 5 deep"))
    );
}

#[test]
fn the_allowance_of_failures_is_the_larger_of_count_and_percent() {
    let mut f = ForEachConfig::over(".x");
    assert_eq!(f.allowed_failures(100), 0);
    f.tolerated_failures = Some(3);
    f.tolerated_failure_percent = Some(10.0);
    assert_eq!(f.allowed_failures(100), 10);
    assert_eq!(f.allowed_failures(10), 3);
    f.tolerated_failure_percent = Some(f64::NAN);
    assert_eq!(
        f.allowed_failures(10),
        3,
        "a NaN percentage allows nothing extra"
    );
}
