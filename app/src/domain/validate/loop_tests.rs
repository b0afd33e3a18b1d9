//! Bounded loops: a cycle needs a bound on its entry, the entry needs an
//! edge back and the loop a way out.

use super::*;

fn t(id: &str) -> Node {
    Node::new(
        id,
        id,
        NodeKind::Transform {
            expression: ".input".into(),
        },
    )
}

fn branchy(id: &str) -> Node {
    Node::new(
        id,
        id,
        NodeKind::Branch {
            conditions: vec![BranchCondition {
                label: "again".into(),
                expression: ".input.again".into(),
            }],
        },
    )
}

/// start -> a -> check -(again)-> a, check -(default)-> end
fn looped(max: Option<u32>) -> WorkflowDef {
    let mut a = t("a");
    a.max_iterations = max;
    WorkflowDef {
        nodes: vec![
            Node::new("start", "Start", NodeKind::Start { input_schema: None }),
            a,
            branchy("check"),
            Node::new("end", "End", NodeKind::End { output: None }),
        ],
        edges: vec![
            Edge::new("start", PORT_OUT, "a"),
            Edge::new("a", PORT_OUT, "check"),
            Edge::new("check", "again", "a"),
            Edge::new("check", PORT_DEFAULT, "end"),
        ],
        settings: Settings::default(),
    }
}

#[test]
fn a_loop_back_to_a_bounded_entry_is_valid_and_its_edge_is_a_back_edge() {
    let d = looped(Some(3));
    assert_eq!(validate(&d), vec![]);
    assert_eq!(d.back_edges().into_iter().collect::<Vec<_>>(), [2]);
    assert_eq!(
        d.loop_body("a", "check").into_iter().collect::<Vec<_>>(),
        ["a", "check"]
    );
}

#[test]
fn a_cycle_without_a_bound_says_where_to_put_one() {
    let p = validate(&looped(None));
    let cycle = p
        .iter()
        .find(|p| p.kind == ProblemKind::Cycle)
        .expect("a cycle");
    assert!(
        cycle.message.contains("set max_iterations on 'a'"),
        "{}",
        cycle.message
    );
}

#[test]
fn a_bound_in_range_with_an_edge_back_and_a_way_out() {
    let mut d = looped(Some(0));
    assert!(
        validate(&d)
            .iter()
            .any(|p| p.message.contains("max_iterations must be from 1 to 1000"))
    );
    // nothing comes back
    d = looped(Some(3));
    d.edges.retain(|e| e.port != "again");
    d.edges.push(Edge::new("check", "again", "end"));
    assert!(
        validate(&d)
            .iter()
            .any(|p| p.message.contains("no later step connects back to it"))
    );
    // no way out but the bound, and nothing on 'exhausted'
    d = looped(Some(3));
    d.edges.retain(|e| e.port != PORT_DEFAULT);
    d.edges.push(Edge::new("check", PORT_DEFAULT, "a"));
    let p = validate(&d);
    assert!(
        p.iter()
            .any(|p| p.message.contains("its loop has no way out")),
        "{p:#?}"
    );
    // connecting 'exhausted' is a way out
    d.edges.push(Edge::new("a", PORT_EXHAUSTED, "end"));
    assert_eq!(validate(&d), vec![]);
}

#[test]
fn the_machine_goes_round_then_runs_out() {
    use crate::domain::machine::{NodeState, Repeat, repeat};
    use crate::domain::run::StepStatus;
    let d = looped(Some(2));
    let done = |port: &str, pass: u32| NodeState {
        status: StepStatus::Succeeded,
        port: Some(port.into()),
        cum_confidence: Some(1.0),
        pass,
        lap: pass,
    };
    let mut states = std::collections::BTreeMap::from([
        ("start".to_string(), done("out", 0)),
        ("a".to_string(), done("out", 0)),
        ("check".to_string(), done("again", 0)),
        ("end".to_string(), NodeState::new(StepStatus::Skipped)),
    ]);
    match repeat(&d, &states, "check") {
        Some(Repeat::Again {
            entry,
            lap,
            body,
            after,
        }) => {
            assert_eq!((entry.as_str(), lap), ("a", 1));
            assert_eq!(body, ["a", "check"]);
            assert_eq!(after, ["end"], "the End the pass skipped waits again");
        }
        other => panic!("{other:?}"),
    }
    states.insert("a".into(), done("out", 1));
    match repeat(&d, &states, "check") {
        Some(Repeat::Spent { reason, .. }) => assert!(reason.contains("all its 2 passes")),
        other => panic!("{other:?}"),
    }
    // leaving by the default port is no repeat
    states.insert("check".into(), done(PORT_DEFAULT, 1));
    assert_eq!(repeat(&d, &states, "check"), None);
}

/// Regression (simulation seed 117): in nested loops the edge from the
/// outer loop's entry into the inner one is a forward edge, and the outer
/// loop's body holds the inner loop.
#[test]
fn nested_loops_tell_their_back_edges_from_the_way_in() {
    let mut outer = t("l1");
    outer.max_iterations = Some(3);
    let mut inner = t("l2");
    inner.max_iterations = Some(3);
    let d = WorkflowDef {
        nodes: vec![
            Node::new("start", "Start", NodeKind::Start { input_schema: None }),
            outer,
            inner,
            branchy("b_inner"),
            branchy("b_outer"),
            Node::new("end", "End", NodeKind::End { output: None }),
        ],
        edges: vec![
            Edge::new("start", PORT_OUT, "l1"),
            Edge::new("l1", PORT_OUT, "l2"),
            Edge::new("l2", PORT_OUT, "b_inner"),
            Edge::new("b_inner", "again", "l2"),
            Edge::new("b_inner", PORT_DEFAULT, "b_outer"),
            Edge::new("b_outer", "again", "l1"),
            Edge::new("b_outer", PORT_DEFAULT, "end"),
        ],
        settings: Settings::default(),
    };
    assert_eq!(validate(&d), vec![]);
    assert_eq!(d.back_edges().into_iter().collect::<Vec<_>>(), [3, 5]);
    assert_eq!(
        d.loop_body("l1", "b_outer").into_iter().collect::<Vec<_>>(),
        ["b_inner", "b_outer", "l1", "l2"]
    );
}
