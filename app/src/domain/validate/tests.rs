use super::*;
use crate::domain::example::invoice_approval;
use proptest::prelude::*;

fn kinds(def: &WorkflowDef) -> Vec<ProblemKind> {
    validate(def).into_iter().map(|p| p.kind).collect()
}

fn transform(id: &str) -> Node {
    Node::new(
        id,
        id,
        NodeKind::Transform {
            expression: ".input".into(),
        },
    )
}

fn start() -> Node {
    Node::new("start", "Start", NodeKind::Start { input_schema: None })
}

fn end(id: &str) -> Node {
    Node::new(id, id, NodeKind::End { output: None })
}

pub(super) fn linear(ids: &[&str]) -> WorkflowDef {
    let mut nodes = vec![start()];
    nodes.extend(ids.iter().map(|id| transform(id)));
    nodes.push(end("end"));
    let names: Vec<&str> = std::iter::once("start")
        .chain(ids.iter().copied())
        .chain(std::iter::once("end"))
        .collect();
    let edges = names
        .windows(2)
        .map(|w| Edge::new(w[0], "out", w[1]))
        .collect();
    WorkflowDef {
        nodes,
        edges,
        settings: Settings::default(),
    }
}

fn only(def: &WorkflowDef, kind: ProblemKind) -> Problem {
    let problems = validate(def);
    let matching: Vec<&Problem> = problems.iter().filter(|p| p.kind == kind).collect();
    assert_eq!(matching.len(), 1, "expected one {kind:?} in {problems:#?}");
    matching[0].clone()
}

#[test]
fn the_example_and_minimal_workflows_are_valid() {
    assert_eq!(validate(&invoice_approval()), vec![]);
    assert_eq!(validate(&WorkflowDef::minimal()), vec![]);
    assert_eq!(validate(&linear(&["a", "b", "c"])), vec![]);
}

/// Regression (issue 13): a condition naming a step that does not exist
/// passed validation and silently took the default branch.
#[test]
fn an_expression_or_template_naming_a_missing_step_is_a_problem() {
    let mut def = linear(&["calc"]);
    if let NodeKind::Transform { expression } = &mut def.nodes[1].kind {
        *expression = "{v: .steps.clac.output}".into();
    }
    let p = only(&def, ProblemKind::UnknownStep);
    assert_eq!(p.node.as_deref(), Some("calc"));
    assert!(
        p.message
            .contains("the expression reads step 'clac', which is not in the workflow"),
        "{}",
        p.message
    );
    if let NodeKind::Transform { expression } = &mut def.nodes[1].kind {
        *expression = "{v: .steps.start.output, s: \".steps.nope\"}".into();
    }
    assert_eq!(kinds(&def), vec![], "existing steps and strings are fine");
}

#[test]
fn invalid_and_duplicate_ids() {
    let mut def = linear(&["a"]);
    def.nodes.push(Node::new("Bad Id", "x", NodeKind::Join {}));
    assert!(kinds(&def).contains(&ProblemKind::InvalidId));
    let mut def = linear(&["a"]);
    def.nodes.push(transform("a"));
    let p = only(&def, ProblemKind::DuplicateId);
    assert_eq!(p.node.as_deref(), Some("a"));
}

#[test]
fn exactly_one_start() {
    let mut def = linear(&["a"]);
    def.nodes.remove(0);
    def.edges.remove(0);
    let p = only(&def, ProblemKind::MissingStart);
    assert!(p.message.contains("add one"), "{}", p.message);

    let mut def = linear(&["a"]);
    let mut second = start();
    second.id = "start2".into();
    def.nodes.push(second);
    def.edges.push(Edge::new("start2", "out", "a"));
    let p = only(&def, ProblemKind::ExtraStart);
    assert_eq!(p.node.as_deref(), Some("start2"));
}

#[test]
fn dangling_edges_name_the_missing_node() {
    let mut def = linear(&["a"]);
    def.edges.push(Edge::new("a", "out", "ghost"));
    let p = only(&def, ProblemKind::DanglingEdge);
    assert_eq!(p.edge, Some(def.edges.len() - 1));
    assert!(p.message.contains("ghost"), "{}", p.message);
}

#[test]
fn unknown_ports_list_the_real_ones() {
    let mut def = linear(&["a"]);
    def.edges.push(Edge::new("a", "yes", "end"));
    let p = only(&def, ProblemKind::UnknownPort);
    assert!(p.message.contains("out, error"), "{}", p.message);
    let mut def = linear(&["a"]);
    def.nodes.push(transform("after"));
    def.edges.push(Edge::new("end", "out", "after"));
    let p = only(&def, ProblemKind::UnknownPort);
    assert!(p.message.contains("cannot have outgoing"), "{}", p.message);
}

#[test]
fn duplicate_edges_and_edges_into_start() {
    let mut def = linear(&["a"]);
    def.edges.push(Edge::new("a", "out", "end"));
    only(&def, ProblemKind::DuplicateEdge);
    let mut def = linear(&["a"]);
    def.edges.push(Edge::new("a", "error", "start"));
    only(&def, ProblemKind::EdgeIntoStart);
}

#[test]
fn unreachable_and_dead_end_nodes() {
    let mut def = linear(&["a"]);
    def.nodes.push(transform("island"));
    def.edges.push(Edge::new("island", "out", "end"));
    let p = only(&def, ProblemKind::Unreachable);
    assert_eq!(p.node.as_deref(), Some("island"));

    let mut def = linear(&["a"]);
    def.nodes.push(transform("loose"));
    def.edges.push(Edge::new("a", "out", "loose"));
    let p = only(&def, ProblemKind::DeadEnd);
    assert_eq!(p.node.as_deref(), Some("loose"));
}

#[test]
fn cycles_are_named_in_order() {
    let mut def = linear(&["a", "b", "c"]);
    def.edges.push(Edge::new("c", "error", "a"));
    let p = only(&def, ProblemKind::Cycle);
    assert!(p.message.contains("a -> b -> c -> a"), "{}", p.message);
}

#[test]
fn branches_need_conditions_default_and_connected_labels() {
    let mut def = invoice_approval();
    def.edges.retain(|e| e.port != "default");
    let p = only(&def, ProblemKind::BranchWithoutDefault);
    assert_eq!(p.node.as_deref(), Some("route"));
    // merge now has one path: that is reported too
    assert!(kinds(&def).contains(&ProblemKind::JoinNeedsTwoPaths));

    let mut def = invoice_approval();
    def.edges.retain(|e| e.port != "large");
    let p = only(&def, ProblemKind::UnconnectedCondition);
    assert!(p.message.contains("'large'"), "{}", p.message);

    let mut def = invoice_approval();
    if let NodeKind::Branch { conditions } = &mut def.nodes[2].kind {
        conditions.clear();
    }
    def.edges.retain(|e| e.port != "large");
    assert!(kinds(&def).contains(&ProblemKind::BranchWithoutConditions));
}

#[test]
fn joins_need_two_paths() {
    let mut def = linear(&["a"]);
    def.nodes.push(Node::new("j", "Join", NodeKind::Join {}));
    def.edges.retain(|e| e.from != "a");
    def.edges.push(Edge::new("a", "out", "j"));
    def.edges.push(Edge::new("j", "out", "end"));
    let p = only(&def, ProblemKind::JoinNeedsTwoPaths);
    assert!(p.message.contains("1 lead"), "{}", p.message);
}

#[test]
fn missing_config_per_kind() {
    let cases: Vec<(NodeKind, &str)> = vec![
        (
            NodeKind::Http {
                request: HttpRequest {
                    method: "POST".into(),
                    url: "".into(),
                    headers: Default::default(),
                    body: None,
                },
                response_schema: None,
            },
            "URL",
        ),
        (
            NodeKind::Http {
                request: HttpRequest {
                    method: "FETCH".into(),
                    url: "https://x.test".into(),
                    headers: Default::default(),
                    body: None,
                },
                response_schema: None,
            },
            "FETCH",
        ),
        (NodeKind::Delay { duration_ms: 0 }, "how long"),
        (
            NodeKind::Fail {
                message: " ".into(),
            },
            "why",
        ),
        (
            NodeKind::Approval(ApprovalConfig {
                title: "".into(),
                instructions: "".into(),
                approvers: Approvers::default(),
                required_approvals: 0,
                allow_self_approval: false,
                form: vec![],
                deadline: None,
            }),
            "title",
        ),
    ];
    for (kind, needle) in cases {
        let is_fail = matches!(kind, NodeKind::Fail { .. });
        let mut def = linear(&[]);
        def.edges.clear();
        def.nodes.push(Node::new("x", "X", kind));
        def.edges.push(Edge::new("start", "out", "x"));
        if !is_fail {
            def.edges.push(Edge::new("x", "out", "end"));
        } else {
            def.edges.push(Edge::new("start", "out", "end"));
        }
        let problems = validate(&def);
        assert!(
            problems
                .iter()
                .any(|p| p.kind == ProblemKind::MissingConfig && p.message.contains(needle)),
            "{needle}: {problems:#?}"
        );
        assert!(
            problems.iter().all(|p| p.node.as_deref() == Some("x")),
            "{problems:#?}"
        );
    }
}

#[test]
fn invalid_expressions_and_templates_are_reported_with_the_node() {
    let mut def = linear(&["a"]);
    def.nodes[1].kind = NodeKind::Transform {
        expression: ".input |".into(),
    };
    let p = only(&def, ProblemKind::InvalidExpression);
    assert_eq!(p.node.as_deref(), Some("a"));
    assert!(
        p.message.starts_with("transform 'a': expression:"),
        "{}",
        p.message
    );

    let mut def = invoice_approval();
    if let NodeKind::Http { request, .. } = &mut def.nodes[5].kind {
        request.body = Some("{{ steps.extract.output.amount ".into());
    }
    let p = only(&def, ProblemKind::InvalidTemplate);
    assert_eq!(p.node.as_deref(), Some("post_ledger"));
}

#[test]
fn settings_are_range_checked() {
    let mut def = linear(&["a"]);
    def.settings.confidence_threshold = Some(1.5);
    def.nodes[1].confidence_threshold = Some(-0.1);
    def.nodes[1].retry.transient.max_attempts = 0;
    def.nodes[1].reversible = true;
    def.settings.gate_reviewers.roles = vec!["approver".into(), "finance".into(), "viewer".into()];
    let ks = kinds(&def);
    assert_eq!(
        ks.iter()
            .filter(|k| **k == ProblemKind::InvalidSetting)
            .count(),
        5,
        "{ks:?}"
    );
    let messages: Vec<String> = validate(&def).into_iter().map(|p| p.message).collect();
    for expected in [
        "confidence-gate reviewers: 'finance' is not a role; deciders are the roles admin or approver, or named users",
        "confidence-gate reviewers: the role viewer may not decide approvals; deciders are the roles admin or approver, or named users",
    ] {
        assert!(messages.iter().any(|m| m == expected), "{messages:?}");
    }
    assert!(ks.contains(&ProblemKind::MissingConfig));
}

/// Random graphs over a handful of nodes and edges (some dangling, some to
/// unknown ports): validation must never panic, must be deterministic, and
/// every problem must point at something that exists.
fn arb_def() -> impl Strategy<Value = WorkflowDef> {
    let kind = prop_oneof![
        Just(NodeKind::Start { input_schema: None }),
        Just(NodeKind::Transform {
            expression: ".input".into()
        }),
        Just(NodeKind::Join {}),
        Just(NodeKind::End { output: None }),
        Just(NodeKind::Branch {
            conditions: vec![BranchCondition {
                label: "yes".into(),
                expression: ".x".into()
            }]
        }),
    ];
    let nodes = prop::collection::vec(kind, 0..8);
    let edges = prop::collection::vec((0usize..9, 0usize..4, 0usize..9), 0..16);
    (nodes, edges).prop_map(|(kinds, edges)| {
        let nodes: Vec<Node> = kinds
            .into_iter()
            .enumerate()
            .map(|(i, k)| Node::new(&format!("n{i}"), &format!("N{i}"), k))
            .collect();
        let ports = ["out", "error", "default", "yes"];
        let edges = edges
            .into_iter()
            .map(|(a, p, b)| Edge::new(&format!("n{a}"), ports[p], &format!("n{b}")))
            .collect();
        WorkflowDef {
            nodes,
            edges,
            settings: Settings::default(),
        }
    })
}

proptest! {
    #[test]
    fn validation_is_total_and_points_at_real_things(def in arb_def()) {
        let problems = validate(&def);
        prop_assert_eq!(&problems, &validate(&def));
        for p in &problems {
            prop_assert!(!p.message.is_empty());
            if let Some(id) = &p.node {
                prop_assert!(def.node(id).is_some(), "{} names a missing node", p.message);
            }
            if let Some(i) = p.edge {
                prop_assert!(i < def.edges.len());
            }
        }
    }

    #[test]
    fn linear_chains_are_valid_and_a_back_edge_makes_a_cycle(len in 1usize..30, back in 0usize..30) {
        let ids: Vec<String> = (0..len).map(|i| format!("s{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut def = linear(&refs);
        prop_assert_eq!(validate(&def), vec![]);
        let to = &ids[back % len];
        def.edges.push(Edge::new(&ids[len - 1], "error", to));
        let cycles = validate(&def).into_iter().filter(|p| p.kind == ProblemKind::Cycle).count();
        prop_assert_eq!(cycles, 1);
    }

    #[test]
    fn cutting_the_entry_edge_makes_the_rest_unreachable(len in 1usize..20) {
        let ids: Vec<String> = (0..len).map(|i| format!("s{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut def = linear(&refs);
        def.edges.remove(0);
        let problems = validate(&def);
        let unreachable = problems.iter().filter(|p| p.kind == ProblemKind::Unreachable).count();
        // every Transform plus the End
        prop_assert_eq!(unreachable, len + 1);
    }
}
