//! New nodes, one per kind, with settings that show what to fill in.

use crate::domain::graph::*;

pub const KINDS: [&str; 9] = [
    "start",
    "transform",
    "branch",
    "join",
    "http",
    "approval",
    "delay",
    "end",
    "fail",
];

/// A node of `kind` with a fresh id, placed at `(x, y)`.
pub fn new_node(def: &WorkflowDef, kind: &str, x: f64, y: f64) -> Option<Node> {
    let node_kind = match kind {
        "start" => NodeKind::Start { input_schema: None },
        "transform" => NodeKind::Transform {
            expression: ".input".into(),
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
                method: "POST".into(),
                url: "https://".into(),
                headers: Default::default(),
                body: None,
            },
            response_schema: None,
        },
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
        "end" => NodeKind::End { output: None },
        "fail" => NodeKind::Fail {
            message: "The run failed".into(),
        },
        _ => return None,
    };
    let id = (1..)
        .map(|i| format!("{kind}_{i}"))
        .find(|id| def.node(id).is_none())
        .expect("some id is free");
    let name = format!("New {kind}");
    Some(Node::new(&id, &name, node_kind).at(x, y))
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
}
