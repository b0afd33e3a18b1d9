//! Scopes: the workflow's own steps, and the body of each For each step
//! (the nodes whose `parent` it is). A run executes one scope; an item run
//! executes a For each's body.

use super::{Node, NodeKind, WorkflowDef};

impl WorkflowDef {
    /// The graph of one scope: the workflow's own steps (`body` none) or
    /// the body of For each `body`, with the edges inside it.
    pub fn scope(&self, body: Option<&str>) -> WorkflowDef {
        self.scoped(body).0
    }

    /// `scope`, and for each of its edges the index of that edge in
    /// `self.edges`. An edge belongs to its source's scope (its target's
    /// when the source does not exist); one between two scopes belongs to
    /// none.
    pub fn scoped(&self, body: Option<&str>) -> (WorkflowDef, Vec<usize>) {
        let parent_of = |id: &str| self.node(id).map(|n| n.parent.as_deref());
        let mut index = Vec::new();
        let edges = self
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| match (parent_of(&e.from), parent_of(&e.to)) {
                (Some(a), Some(b)) => a == body && b == body,
                (Some(a), None) | (None, Some(a)) => a == body,
                (None, None) => body.is_none(),
            })
            .map(|(i, e)| {
                index.push(i);
                e.clone()
            })
            .collect();
        let def = WorkflowDef {
            nodes: self
                .nodes
                .iter()
                .filter(|n| n.parent.as_deref() == body)
                .cloned()
                .collect(),
            edges,
            settings: self.settings.clone(),
        };
        (def, index)
    }

    /// The For each steps, whose bodies are scopes of their own.
    pub fn bodies(&self) -> impl Iterator<Item = &Node> {
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::ForEach(_)))
    }

    /// How many For each frames hold `id` (0 for the workflow's own steps);
    /// `None` when its parents do not lead out (a missing parent, a node
    /// that is not a For each, or parents in a circle).
    pub fn nesting(&self, id: &str) -> Option<usize> {
        let mut depth = 0;
        let mut at = self.node(id)?;
        while let Some(p) = &at.parent {
            at = self.node(p)?;
            if !matches!(at.kind, NodeKind::ForEach(_)) || depth > self.nodes.len() {
                return None;
            }
            depth += 1;
        }
        Some(depth)
    }

    /// The nodes inside `frame`, at any depth.
    pub fn inside(&self, frame: &str) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| {
                let mut p = n.parent.as_deref();
                let mut hops = 0;
                while let Some(id) = p {
                    if id == frame {
                        return true;
                    }
                    hops += 1;
                    if hops > self.nodes.len() {
                        return false;
                    }
                    p = self.node(id).and_then(|n| n.parent.as_deref());
                }
                false
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;

    fn body_def() -> WorkflowDef {
        WorkflowDef {
            nodes: vec![
                Node::new("start", "Start", NodeKind::Start { input_schema: None }),
                Node::new(
                    "each",
                    "Each",
                    NodeKind::ForEach(ForEachConfig::over(".input")),
                ),
                Node::new("b_start", "S", NodeKind::Start { input_schema: None }).inside("each"),
                Node::new("b_end", "E", NodeKind::End { output: None }).inside("each"),
                Node::new("end", "End", NodeKind::End { output: None }),
            ],
            edges: vec![
                Edge::new("start", PORT_OUT, "each"),
                Edge::new("b_start", PORT_OUT, "b_end"),
                Edge::new("each", PORT_OUT, "end"),
                Edge::new("b_start", PORT_OUT, "end"),
            ],
            settings: Settings::default(),
        }
    }

    #[test]
    fn a_scope_holds_its_own_nodes_and_the_edges_inside_it() {
        let d = body_def();
        let (top, idx) = d.scoped(None);
        let ids: Vec<&str> = top.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["start", "each", "end"]);
        assert_eq!(idx, [0, 2], "the edge across the frame is in neither scope");
        let (body, idx) = d.scoped(Some("each"));
        assert_eq!(body.nodes.len(), 2);
        assert_eq!(idx, [1]);
        assert_eq!(d.nesting("b_end"), Some(1));
        assert_eq!(d.nesting("each"), Some(0));
        assert_eq!(d.inside("each").len(), 2);
    }

    #[test]
    fn parents_that_do_not_lead_out_have_no_nesting() {
        let mut d = body_def();
        d.nodes[1].parent = Some("b_start".into()); // each inside its own body's Start
        assert_eq!(d.nesting("b_end"), None);
        d.nodes[1].parent = Some("each".into()); // itself
        assert_eq!(d.nesting("each"), None);
        assert!(d.inside("nothing").is_empty());
    }
}
