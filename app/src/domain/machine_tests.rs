use super::*;
use crate::domain::graph::*;

fn n(id: &str, kind: NodeKind) -> Node {
    Node::new(id, id, kind)
}
fn t(id: &str) -> Node {
    n(
        id,
        NodeKind::Transform {
            expression: ".".into(),
        },
    )
}
fn branch(id: &str, labels: &[&str]) -> Node {
    n(
        id,
        NodeKind::Branch {
            conditions: labels
                .iter()
                .map(|l| BranchCondition {
                    label: l.to_string(),
                    expression: "true".into(),
                })
                .collect(),
        },
    )
}
fn end(id: &str) -> Node {
    n(id, NodeKind::End { output: None })
}
fn e(from: &str, port: &str, to: &str) -> Edge {
    Edge::new(from, port, to)
}
fn def(nodes: Vec<Node>, edges: Vec<Edge>) -> WorkflowDef {
    let d = WorkflowDef {
        nodes,
        edges,
        settings: Settings::default(),
    };
    assert_eq!(crate::domain::validate(&d), vec![], "test graphs are valid");
    d
}

/// start -> a, b (in parallel) -> join j -> end
fn diamond() -> WorkflowDef {
    def(
        vec![
            n("start", NodeKind::Start { input_schema: None }),
            t("a"),
            t("b"),
            n("j", NodeKind::Join {}),
            end("end"),
        ],
        vec![
            e("start", "out", "a"),
            e("start", "out", "b"),
            e("a", "out", "j"),
            e("b", "out", "j"),
            e("j", "out", "end"),
        ],
    )
}

/// Runs the graph to the end with `port_of(node)` choosing each finished
/// node's port (None = the node fails without an error edge), and returns
/// every node's final status.
fn simulate(
    d: &WorkflowDef,
    port_of: impl Fn(&str) -> Option<&'static str>,
) -> BTreeMap<String, StepStatus> {
    let mut states: BTreeMap<String, NodeState> = d
        .nodes
        .iter()
        .map(|n| (n.id.clone(), NodeState::new(StepStatus::Pending)))
        .collect();
    states.get_mut("start").unwrap().status = StepStatus::Ready;
    loop {
        let ready: Vec<String> = states
            .iter()
            .filter(|(_, s)| s.status == StepStatus::Ready)
            .map(|(k, _)| k.clone())
            .collect();
        if ready.is_empty() {
            break;
        }
        for id in ready {
            let s = states.get_mut(&id).unwrap();
            match port_of(&id) {
                Some("error") => {
                    s.status = StepStatus::Failed;
                    s.port = Some("error".into());
                }
                Some(p) => {
                    s.status = StepStatus::Succeeded;
                    s.port = Some(p.into());
                }
                None => s.status = StepStatus::Failed,
            }
            s.cum_confidence = Some(1.0);
            for c in settle(d, &states, &[id.as_str()]) {
                match c {
                    Change::Activate { node, .. } => {
                        states.get_mut(&node).unwrap().status = StepStatus::Ready
                    }
                    Change::Skip { node } => {
                        states.get_mut(&node).unwrap().status = StepStatus::Skipped
                    }
                }
            }
        }
    }
    states.into_iter().map(|(k, v)| (k, v.status)).collect()
}

use StepStatus::{Pending, Skipped, Succeeded};

#[test]
fn diamond_runs_both_sides_and_joins_once() {
    let d = diamond();
    let s = simulate(&d, |_| Some("out"));
    assert!(s.values().all(|st| *st == Succeeded), "{s:?}");
}

#[test]
fn join_waits_until_every_live_path_arrives() {
    let d = diamond();
    let mut states: BTreeMap<String, NodeState> = d
        .nodes
        .iter()
        .map(|n| (n.id.clone(), NodeState::new(Pending)))
        .collect();
    for id in ["start", "a"] {
        let s = states.get_mut(id).unwrap();
        s.status = Succeeded;
        s.port = Some("out".into());
    }
    states.get_mut("b").unwrap().status = StepStatus::Running;
    assert_eq!(settle(&d, &states, &["a"]), vec![], "b is still running");
    let s = states.get_mut("b").unwrap();
    s.status = Succeeded;
    s.port = Some("out".into());
    assert_eq!(
        settle(&d, &states, &["b"]),
        vec![Change::Activate {
            node: "j".into(),
            cum_in: 1.0
        }]
    );
}

#[test]
fn branch_feeding_a_join_skips_the_untaken_side() {
    // start -> br -(big)-> approve -> j ; br -(default)-> j ; j -> end
    let d = def(
        vec![
            n("start", NodeKind::Start { input_schema: None }),
            branch("br", &["big"]),
            t("approve"),
            n("j", NodeKind::Join {}),
            end("end"),
        ],
        vec![
            e("start", "out", "br"),
            e("br", "big", "approve"),
            e("br", "default", "j"),
            e("approve", "out", "j"),
            e("j", "out", "end"),
        ],
    );
    let s = simulate(&d, |id| Some(if id == "br" { "default" } else { "out" }));
    assert_eq!(s["approve"], Skipped);
    assert_eq!(
        s["j"], Succeeded,
        "the join does not hang on the skipped path"
    );
    assert_eq!(s["end"], Succeeded);
    let s = simulate(&d, |id| Some(if id == "br" { "big" } else { "out" }));
    assert_eq!(s["approve"], Succeeded);
    assert_eq!(s["j"], Succeeded);
}

#[test]
fn nested_branches_skip_whole_subtrees() {
    // start -> b1 -(x)-> b2 -(y)-> p -> e1 ; b2 -(default)-> q -> e2 ; b1 -(default)-> r -> e3
    let d = def(
        vec![
            n("start", NodeKind::Start { input_schema: None }),
            branch("b1", &["x"]),
            branch("b2", &["y"]),
            t("p"),
            t("q"),
            t("r"),
            end("e1"),
            end("e2"),
            end("e3"),
        ],
        vec![
            e("start", "out", "b1"),
            e("b1", "x", "b2"),
            e("b1", "default", "r"),
            e("b2", "y", "p"),
            e("b2", "default", "q"),
            e("p", "out", "e1"),
            e("q", "out", "e2"),
            e("r", "out", "e3"),
        ],
    );
    let s = simulate(&d, |id| {
        Some(match id {
            "b1" => "default",
            _ => "out",
        })
    });
    for id in ["b2", "p", "q", "e1", "e2"] {
        assert_eq!(s[id], Skipped, "{id}");
    }
    assert_eq!(s["e3"], Succeeded);
    let s = simulate(&d, |id| {
        Some(match id {
            "b1" => "x",
            "b2" => "y",
            _ => "out",
        })
    });
    assert_eq!((s["p"], s["q"], s["r"]), (Succeeded, Skipped, Skipped));
}

#[test]
fn error_edges_route_handled_failures() {
    let d = def(
        vec![
            n("start", NodeKind::Start { input_schema: None }),
            t("call"),
            t("recover"),
            end("ok"),
            end("handled"),
        ],
        vec![
            e("start", "out", "call"),
            e("call", "out", "ok"),
            e("call", "error", "recover"),
            e("recover", "out", "handled"),
        ],
    );
    let s = simulate(&d, |id| Some(if id == "call" { "error" } else { "out" }));
    assert_eq!(
        (s["ok"], s["recover"], s["handled"]),
        (Skipped, Succeeded, Succeeded)
    );
}

#[test]
fn outcomes() {
    let d = def(
        vec![
            n("start", NodeKind::Start { input_schema: None }),
            t("a"),
            end("end"),
        ],
        vec![e("start", "out", "a"), e("a", "out", "end")],
    );
    let mk = |a: StepStatus, port: Option<&str>, end: StepStatus| {
        let mut m = BTreeMap::new();
        m.insert(
            "start".to_string(),
            NodeState {
                status: Succeeded,
                port: Some("out".into()),
                cum_confidence: None,
                pass: 0,
                lap: 0,
            },
        );
        m.insert(
            "a".to_string(),
            NodeState {
                status: a,
                port: port.map(String::from),
                cum_confidence: None,
                pass: 0,
                lap: 0,
            },
        );
        m.insert("end".to_string(), NodeState::new(end));
        m
    };
    assert_eq!(
        outcome(&d, &mk(StepStatus::Running, None, Pending)),
        RunOutcome::Open
    );
    assert_eq!(
        outcome(&d, &mk(Succeeded, Some("out"), Succeeded)),
        RunOutcome::Succeeded {
            ends: vec!["end".into()]
        }
    );
    assert!(matches!(
        outcome(&d, &mk(StepStatus::Failed, None, Pending)),
        RunOutcome::Failed { node: Some(ref n), .. } if n == "a"
    ));
    assert!(matches!(
        outcome(&d, &mk(Succeeded, Some("out"), Skipped)),
        RunOutcome::Failed { node: None, .. }
    ));
}

#[test]
fn backoff_schedule_grows_caps_and_jitters_down() {
    let p = RetryPolicy {
        max_attempts: 6,
        initial_delay_ms: 1000,
        multiplier: 2.0,
        max_delay_ms: 5000,
        jitter: 0.5,
    };
    let exact: Vec<u64> = (1..=5).map(|a| backoff_ms(&p, a, 0.0)).collect();
    assert_eq!(exact, vec![1000, 2000, 4000, 5000, 5000]);
    assert_eq!(
        backoff_ms(&p, 2, 0.5),
        1500,
        "half the jitter fraction at r=0.5"
    );
    assert_eq!(
        after_failure(&p, 5, 0.0),
        AfterFailure::Retry { delay_ms: 5000 }
    );
    assert_eq!(after_failure(&p, 6, 0.0), AfterFailure::GiveUp);
    let once = RetryPolicy::attempts(1);
    assert_eq!(after_failure(&once, 1, 0.3), AfterFailure::GiveUp);
}

#[test]
fn retry_after_lengthens_a_shorter_backoff_and_is_capped_at_an_hour() {
    assert_eq!(honour_retry_after(1000, None), 1000);
    assert_eq!(honour_retry_after(1000, Some(3000)), 3000);
    assert_eq!(honour_retry_after(5000, Some(3000)), 5000, "never shorter");
    assert_eq!(honour_retry_after(1000, Some(u64::MAX)), MAX_RETRY_AFTER_MS);
}

#[test]
fn confidence_multiplies_along_the_path_and_joins_take_the_weakest() {
    assert!((cumulative(0.94, Some(0.91)) - 0.8554).abs() < 1e-9);
    assert_eq!(cumulative(0.9, None), 0.9);
    let d = diamond();
    let mut states = BTreeMap::new();
    for (id, c) in [("start", 1.0), ("a", 0.8), ("b", 0.6)] {
        states.insert(
            id.to_string(),
            NodeState {
                status: Succeeded,
                port: Some("out".into()),
                cum_confidence: Some(c),
                pass: 0,
                lap: 0,
            },
        );
    }
    states.insert("j".into(), NodeState::new(Pending));
    states.insert("end".into(), NodeState::new(Pending));
    assert_eq!(
        settle(&d, &states, &["b"]),
        vec![Change::Activate {
            node: "j".into(),
            cum_in: 0.6
        }]
    );
}

#[test]
fn context_shape() {
    let out = serde_json::json!({"v": 1});
    let ctx = context(&serde_json::json!({"x": 2}), [("a", &out, Some(0.5))]);
    assert_eq!(ctx["steps"]["a"]["output"]["v"], 1);
    assert_eq!(ctx["steps"]["a"]["confidence"], 0.5);
    assert_eq!(ctx["input"]["x"], 2);
}

#[test]
fn confidence_gates_stop_below_the_threshold() {
    // 0.94 passes a 0.9 threshold; 0.94 x 0.91 = 0.855 does not
    assert_eq!(gate(Some(0.94), 1.0, None, Some(0.9)), None);
    let why = gate(Some(0.91), 0.94, None, Some(0.9)).unwrap();
    assert_eq!(
        why,
        "the run's cumulative confidence 0.940 × 0.910 = 0.855 is below the threshold 0.9"
    );
    assert!(
        gate(Some(0.5), 1.0, Some(0.6), Some(0.1))
            .unwrap()
            .contains("reported confidence 0.500")
    );
    assert_eq!(
        gate(Some(0.5), 1.0, None, None),
        None,
        "no threshold, no gate"
    );
    assert_eq!(
        gate(None, 0.2, None, Some(0.9)),
        None,
        "a step that reports nothing changes nothing"
    );
    assert_eq!(
        gate(Some(1.0), 0.95, None, Some(0.99)),
        None,
        "a person's 1.0 never waits"
    );
}
