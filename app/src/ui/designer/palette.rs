//! New nodes, one per kind, with settings that show what to fill in.

use crate::domain::graph::*;

pub const KINDS: [&str; 14] = [
    "start",
    "transform",
    "code",
    "branch",
    "join",
    "http",
    "email",
    "llm",
    "approval",
    "delay",
    "sub_workflow",
    "for_each",
    "end",
    "fail",
];

/// The kind's icon on cards and in the palette (plain Unicode, so it
/// needs no icon font and reads the same in every browser).
pub fn icon(kind: &str) -> &'static str {
    match kind {
        "start" => "▶",
        "transform" => "ƒ",
        "code" => "{}",
        "branch" => "◇",
        "join" => "⋈",
        "http" => "⇄",
        "email" => "✉",
        "llm" => "✦",
        "approval" => "✓",
        "delay" => "◷",
        "sub_workflow" => "⧉",
        "for_each" => "↻",
        "end" => "■",
        "fail" => "✕",
        _ => "•",
    }
}

/// What each kind does, for the "add a step" search.
pub fn describe(kind: &str) -> &'static str {
    match kind {
        "start" => "where a run begins; checks the input",
        "transform" => "compute values with a jq expression",
        "code" => "compute values with JavaScript (a script, function main)",
        "branch" => "take the first path whose condition holds",
        "join" => "wait for every incoming path",
        "http" => "call an HTTP endpoint",
        "email" => "send an email (mail, message, notify someone) with attachments",
        "llm" => {
            "ask a language model (AI) to classify, extract or write, with a measured confidence"
        }
        "approval" => "wait for a person to decide",
        "delay" => "wait for a fixed time",
        "sub_workflow" => "run another workflow as a child run; its output is the child's",
        "for_each" => {
            "run the steps in its frame once for every item of a list (loop, iterate, map)"
        }
        "end" => "finish the run with an output",
        "fail" => "stop the path with an error",
        _ => "",
    }
}

/// The kinds whose name or description contains `query`, best first.
pub fn search(query: &str) -> Vec<&'static str> {
    let q = query.trim().to_lowercase();
    let mut hits: Vec<(bool, &'static str)> = KINDS
        .iter()
        .filter(|k| k.contains(&q) || describe(k).contains(&q))
        .map(|k| (!k.starts_with(&q), *k))
        .collect();
    hits.sort_by_key(|(later, _)| *later);
    hits.into_iter().map(|(_, k)| k).collect()
}

/// A new Code step's source: what to write, and that it runs.
pub const NEW_CODE: &str = "// ctx is {input, steps}; what main returns is the step's output.\n// console.log goes to the step log.\nfunction main(ctx) {\n  return { value: ctx.input };\n}\n";

/// A node of `kind` with a fresh id, placed at `(x, y)`.
pub fn new_node(def: &WorkflowDef, kind: &str, x: f64, y: f64) -> Option<Node> {
    let node_kind = match kind {
        "start" => NodeKind::Start { input_schema: None },
        "transform" => NodeKind::Transform {
            expression: ".input".into(),
        },
        "code" => NodeKind::Code {
            source: NEW_CODE.into(),
        },
        "branch" => NodeKind::Branch {
            conditions: vec![BranchCondition {
                label: "yes".into(),
                expression: "true".into(),
            }],
        },
        "join" => NodeKind::Join {},
        "http" => NodeKind::Http {
            request: HttpRequest {
                method: "GET".into(),
                url: "https://".into(),
                headers: Default::default(),
                body: None,
            },
            response_schema: None,
        },
        "email" => NodeKind::Email(EmailConfig {
            to: "{{ input.email }}".into(),
            subject: "About {{ input.name }}".into(),
            text: "Hello,\n\n".into(),
            ..Default::default()
        }),
        "llm" => NodeKind::Llm(LlmConfig {
            labels: vec![
                LlmLabel {
                    name: "yes".into(),
                    description: String::new(),
                },
                LlmLabel {
                    name: "no".into(),
                    description: String::new(),
                },
            ],
            ..LlmConfig::new("", LlmMode::Classify, "{{ input | tojson }}")
        }),
        "approval" => NodeKind::Approval(ApprovalConfig {
            title: "Approve".into(),
            instructions: String::new(),
            approvers: Approvers {
                roles: vec!["approver".into()],
                users: vec![],
            },
            required_approvals: 1,
            allow_self_approval: false,
            form: vec![],
            deadline: None,
        }),
        "delay" => NodeKind::Delay {
            duration_ms: 60_000,
        },
        "sub_workflow" => NodeKind::SubWorkflow {
            workflow_id: String::new(),
            version: None,
            input: None,
        },
        "for_each" => NodeKind::ForEach(ForEachConfig::over(".input.items")),
        "end" => NodeKind::End { output: None },
        "fail" => NodeKind::Fail {
            message: "The run failed".into(),
        },
        _ => return None,
    };
    let id = super::edit::fresh_id(def, &Default::default(), kind);
    let name = format!("New {kind}");
    Some(Node::new(&id, &name, node_kind).at(x, y))
}

/// A new For each's body: its own Start and End inside its frame, joined,
/// so the step runs from the start and each step added in between works
/// on `.item`.
pub fn new_body(def: &WorkflowDef, each: &Node) -> (Vec<Node>, Edge) {
    let (x, y) = (each.position.x + 40.0, each.position.y + 120.0);
    let taken = Default::default();
    let start_id = super::edit::fresh_id(def, &taken, "item");
    let start = Node::new(&start_id, "Item", NodeKind::Start { input_schema: None })
        .at(x, y)
        .inside(&each.id);
    let taken = std::collections::BTreeSet::from([start_id.clone()]);
    let end_id = super::edit::fresh_id(def, &taken, "item_done");
    let end = Node::new(
        &end_id,
        "Item done",
        NodeKind::End {
            output: Some(".item".into()),
        },
    )
    .at(x + 240.0, y)
    .inside(&each.id);
    let edge = Edge::new(&start_id, PORT_OUT, &end_id);
    (vec![start, end], edge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_gets_a_unique_id() {
        let mut def = WorkflowDef::minimal();
        for kind in KINDS {
            let a = new_node(&def, kind, 0.0, 0.0).unwrap();
            def.nodes.push(a.clone());
            let b = new_node(&def, kind, 0.0, 0.0).unwrap();
            assert_ne!(a.id, b.id);
            assert_eq!(a.kind.type_name(), kind);
        }
        assert!(new_node(&def, "teleport", 0.0, 0.0).is_none());
    }

    #[test]
    fn a_new_for_each_comes_with_a_body_that_validates() {
        let mut def = WorkflowDef::minimal();
        let each = new_node(&def, "for_each", 300.0, 100.0).unwrap();
        def.edges = vec![
            Edge::new("start", PORT_OUT, &each.id),
            Edge::new(&each.id, PORT_OUT, "end"),
        ];
        let (body, edge) = new_body(&def, &each);
        def.nodes.push(each);
        def.nodes.extend(body);
        def.edges.push(edge);
        assert_eq!(crate::domain::validate(&def), vec![]);
    }

    #[test]
    fn every_kind_says_what_it_outputs_and_a_new_http_step_reads() {
        for kind in KINDS {
            assert!(
                !crate::domain::outputs::output_of(kind).is_empty(),
                "{kind}"
            );
        }
        let def = WorkflowDef::minimal();
        let Some(NodeKind::Http { request, .. }) = new_node(&def, "http", 0.0, 0.0).map(|n| n.kind)
        else {
            panic!("an Http step");
        };
        assert_eq!(
            request.method, "GET",
            "a new Http step reads; writing is a choice"
        );
    }

    #[test]
    fn search_matches_names_first_then_descriptions() {
        assert_eq!(search("")[0], "start");
        assert!(search("zzz").is_empty());
        // "de" starts "delay"; it is inside other descriptions ("decide")
        let de = search("De");
        assert_eq!(de[0], "delay");
        assert!(de.contains(&"approval"));
        assert_eq!(search("WAIT"), ["join", "approval", "delay"]);
    }
}
