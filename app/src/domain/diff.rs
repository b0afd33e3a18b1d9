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
