//! What changed between two versions of a workflow, step by step.

use super::graph::{Edge, WorkflowDef};
use serde::{Deserialize, Serialize};

/// Differences from `old` to `new`, by node id. A node that only moved is
/// listed under `moved`, not `changed`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub moved: Vec<String>,
    pub edges_added: Vec<Edge>,
    pub edges_removed: Vec<Edge>,
    pub settings_changed: bool,
}

impl VersionDiff {
    pub fn is_empty(&self) -> bool {
        *self == VersionDiff::default()
    }

    /// How node `id` of the old version fares in the new one, if it changed.
    pub fn status_of(&self, id: &str) -> Option<&'static str> {
        let has = |v: &[String]| v.iter().any(|x| x == id);
        if has(&self.removed) {
            Some("removed")
        } else if has(&self.changed) {
            Some("changed")
        } else if has(&self.moved) {
            Some("moved")
        } else {
            None
        }
    }
}

pub fn diff(old: &WorkflowDef, new: &WorkflowDef) -> VersionDiff {
    let mut d = VersionDiff::default();
    for n in &new.nodes {
        match old.node(&n.id) {
            None => d.added.push(n.id.clone()),
            Some(o) if o == n => {}
            Some(o) => {
                let mut same_place = o.clone();
                same_place.position = n.position;
                if same_place == *n {
                    d.moved.push(n.id.clone());
                } else {
                    d.changed.push(n.id.clone());
                }
            }
        }
    }
    d.removed = old
        .nodes
        .iter()
        .filter(|o| new.node(&o.id).is_none())
        .map(|o| o.id.clone())
        .collect();
    d.edges_added = new
        .edges
        .iter()
        .filter(|e| !old.edges.contains(e))
        .cloned()
        .collect();
    d.edges_removed = old
        .edges
        .iter()
        .filter(|e| !new.edges.contains(e))
        .cloned()
        .collect();
    d.settings_changed = old.settings != new.settings;
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::graph::{Node, NodeKind};

    #[test]
    fn added_removed_changed_and_moved() {
        let old = WorkflowDef::minimal();
        let mut new = old.clone();
        assert!(diff(&old, &new).is_empty());
        new.nodes[0].position.x += 40.0;
        new.nodes[1].name = "Finish".into();
        new.nodes.push(Node::new(
            "t",
            "T",
            NodeKind::Transform {
                expression: ".".into(),
            },
        ));
        new.edges.push(Edge::new("start", "out", "t"));
        let d = diff(&old, &new);
        assert_eq!(d.added, ["t"]);
        assert_eq!(d.moved, ["start"]);
        assert_eq!(d.changed, ["end"]);
        assert!(d.removed.is_empty());
        assert_eq!(d.edges_added, [Edge::new("start", "out", "t")]);
        assert_eq!(d.status_of("end"), Some("changed"));
        assert_eq!(d.status_of("start"), Some("moved"));

        let back = diff(&new, &old);
        assert_eq!(back.removed, ["t"]);
        assert_eq!(back.status_of("t"), Some("removed"));
        assert_eq!(back.edges_removed, [Edge::new("start", "out", "t")]);
        assert!(!back.settings_changed);
    }
}

/// One value a person changed in an output, for the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueChange {
    /// `.amount`, `.lines[2]` style; `.` for the whole value.
    pub path: String,
    pub from: serde_json::Value,
    pub to: serde_json::Value,
}

/// At most this many changes are listed (the rest are counted).
pub const MAX_VALUE_CHANGES: usize = 50;

/// The leaves that differ between `before` and `after` (objects are walked
/// key by key, arrays of equal length index by index; anything else that
/// differs is one change). Long values are cut so an audit event stays small.
pub fn changed_paths(before: &serde_json::Value, after: &serde_json::Value) -> Vec<ValueChange> {
    let mut out = Vec::new();
    walk(before, after, &mut String::new(), &mut out, 0);
    out
}

fn short(v: &serde_json::Value) -> serde_json::Value {
    let s = v.to_string();
    if s.len() <= 200 {
        v.clone()
    } else {
        let cut: String = s.chars().take(200).collect();
        serde_json::Value::String(format!("{cut}…"))
    }
}

fn walk(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &mut String,
    out: &mut Vec<ValueChange>,
    depth: usize,
) {
    use serde_json::Value;
    if a == b || out.len() >= MAX_VALUE_CHANGES {
        return;
    }
    let len = path.len();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if depth < 32 => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                path.push('.');
                path.push_str(k);
                let none = Value::Null;
                walk(
                    x.get(k).unwrap_or(&none),
                    y.get(k).unwrap_or(&none),
                    path,
                    out,
                    depth + 1,
                );
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() && depth < 32 => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                path.push_str(&format!("[{i}]"));
                walk(p, q, path, out, depth + 1);
                path.truncate(len);
            }
        }
        _ => out.push(ValueChange {
            path: if path.is_empty() {
                ".".into()
            } else {
                path.clone()
            },
            from: short(a),
            to: short(b),
        }),
    }
}

#[cfg(test)]
mod value_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_paths_name_each_leaf_an_approver_changed() {
        let before = json!({"amount": 5300, "vendor": "ACME", "lines": [1, 2], "memo": "x"});
        let after =
            json!({"amount": 5200, "vendor": "ACME", "lines": [1, 3], "note": "ok", "memo": "x"});
        let c = changed_paths(&before, &after);
        let paths: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, [".amount", ".lines[1]", ".note"]);
        assert_eq!(
            (c[0].from.clone(), c[0].to.clone()),
            (json!(5300), json!(5200))
        );
        assert_eq!(c[2].from, json!(null));
        assert_eq!(changed_paths(&json!(1), &json!("1"))[0].path, ".");
        assert!(changed_paths(&before, &before).is_empty());
        let big = json!("y".repeat(1000));
        let cut = &changed_paths(&json!("x"), &big)[0].to;
        assert!(cut.as_str().unwrap().chars().count() <= 201);
        let many_a = json!(
            (0..100)
                .map(|i| (i.to_string(), json!(i)))
                .collect::<serde_json::Map<_, _>>()
        );
        let many_b = json!(
            (0..100)
                .map(|i| (i.to_string(), json!(i + 1)))
                .collect::<serde_json::Map<_, _>>()
        );
        assert_eq!(changed_paths(&many_a, &many_b).len(), MAX_VALUE_CHANGES);
    }
}
