//! Graph edits the designer makes, as plain functions over the definition:
//! removing a selection, copying and pasting part of a graph, and finding
//! where the next step connects.

use super::geometry::{GRID, NODE_W, ports, snap};
use crate::domain::{Edge, Node, WorkflowDef};
use std::collections::{BTreeSet, HashMap};

/// Nodes and the edges between them, as copied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fragment {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// `base_<n>` with the smallest n not taken (`transform_1` copies as
/// `transform_2`).
pub fn fresh_id(def: &WorkflowDef, taken: &BTreeSet<String>, base: &str) -> String {
    let stem = match base.rsplit_once('_') {
        Some((stem, n)) if !stem.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => stem,
        _ => base,
    };
    (1..)
        .map(|i| format!("{stem}_{i}"))
        .find(|id| def.node(id).is_none() && !taken.contains(id))
        .expect("some id is free")
}

/// The selected nodes and the edges that stay inside the selection.
pub fn copy(def: &WorkflowDef, ids: &BTreeSet<String>) -> Fragment {
    Fragment {
        nodes: def
            .nodes
            .iter()
            .filter(|n| ids.contains(&n.id))
            .cloned()
            .collect(),
        edges: def
            .edges
            .iter()
            .filter(|e| ids.contains(&e.from) && ids.contains(&e.to))
            .cloned()
            .collect(),
    }
}

/// Adds a copy of `f` moved by `offset`, with fresh ids; returns the ids.
pub fn paste(def: &mut WorkflowDef, f: &Fragment, offset: (f64, f64)) -> BTreeSet<String> {
    let mut renamed: HashMap<&str, String> = HashMap::new();
    let mut taken = BTreeSet::new();
    for n in &f.nodes {
        let id = fresh_id(def, &taken, &n.id);
        taken.insert(id.clone());
        renamed.insert(n.id.as_str(), id);
    }
    for n in &f.nodes {
        let mut copy = n.clone();
        copy.id = renamed[n.id.as_str()].clone();
        copy.name = format!("{} (copy)", n.name);
        copy.position.x = snap(n.position.x + offset.0);
        copy.position.y = snap(n.position.y + offset.1);
        def.nodes.push(copy);
    }
    for e in &f.edges {
        if let (Some(a), Some(b)) = (renamed.get(e.from.as_str()), renamed.get(e.to.as_str())) {
            def.edges.push(Edge::new(a, &e.port, b));
        }
    }
    taken
}

/// Removes the nodes and every edge that touches them.
pub fn remove(def: &mut WorkflowDef, ids: &BTreeSet<String>) {
    def.nodes.retain(|n| !ids.contains(&n.id));
    def.edges
        .retain(|e| !ids.contains(&e.from) && !ids.contains(&e.to));
}

/// The first output port of `id` with nothing connected (`error` only when
/// every other port is taken is not offered: error paths are drawn on
/// purpose).
pub fn free_port(def: &WorkflowDef, id: &str) -> Option<String> {
    let n = def.node(id)?;
    ports(n)
        .into_iter()
        .filter(|p| p != crate::domain::PORT_ERROR)
        .find(|p| !def.edges.iter().any(|e| e.from == id && e.port == *p))
}

/// The first output port of `n` other than `error`.
fn main_port(n: &Node) -> Option<String> {
    ports(n)
        .into_iter()
        .find(|p| p != crate::domain::PORT_ERROR)
}

fn name_of(def: &WorkflowDef, id: &str) -> String {
    def.node(id).map(|n| n.name.clone()).unwrap_or_default()
}

/// Connects the new step `new` after `after`, and says how: on a free
/// port; else in place of the first port's connections (the new step
/// takes them over, so it sits between); else not at all, and why.
pub fn connect_after(def: &mut WorkflowDef, after: &str, new: &str) -> String {
    let (a, n) = (name_of(def, after), name_of(def, new));
    if let Some(port) = free_port(def, after) {
        def.edges.push(Edge::new(after, &port, new));
        return format!("Added “{n}” after “{a}”.");
    }
    let Some(port) = def.node(after).and_then(main_port) else {
        return format!("Added “{n}”, not connected: “{a}” has no outputs.");
    };
    let targets: Vec<Edge> = def
        .edges
        .iter()
        .filter(|e| e.from == after && e.port == port)
        .cloned()
        .collect();
    match insert_between(def, &targets, new) {
        Ok(()) => {
            let to: Vec<String> = targets.iter().map(|e| name_of(def, &e.to)).collect();
            format!(
                "Added “{n}” between “{a}” and “{}”: “{a}” had no free output.",
                to.join("”, “")
            )
        }
        Err(why) => {
            format!("Added “{n}”, not connected: every output of “{a}” is taken and {why}.")
        }
    }
}

/// Puts step `new` on the edges `on` (all from one port): their source
/// connects to `new`, and `new`'s first output to each of their targets.
pub fn insert_between(def: &mut WorkflowDef, on: &[Edge], new: &str) -> Result<(), String> {
    let Some(first) = on.first() else {
        return Err("there is no connection to insert it on".into());
    };
    let Some(out) = def.node(new).and_then(main_port) else {
        return Err(format!(
            "“{}” ends a path, so nothing can follow it",
            name_of(def, new)
        ));
    };
    def.edges.retain(|e| !on.contains(e));
    def.edges.push(Edge::new(&first.from, &first.port, new));
    for e in on {
        let next = Edge::new(new, &out, &e.to);
        if !def.edges.contains(&next) {
            def.edges.push(next);
        }
    }
    Ok(())
}

/// Where a step added after `id` goes: one column to the right, below
/// whatever already sits there.
pub fn place_after(def: &WorkflowDef, id: &str) -> Option<(f64, f64)> {
    let n = def.node(id)?;
    let x = snap(n.position.x + NODE_W + 3.0 * GRID);
    let mut y = n.position.y;
    while def
        .nodes
        .iter()
        .any(|o| (o.position.x - x).abs() < NODE_W && (o.position.y - y).abs() < 4.0 * GRID)
    {
        y += 5.0 * GRID;
    }
    Some((x, snap(y)))
}

/// Where a step added with nothing selected goes: right of everything.
pub fn place_at_end(def: &WorkflowDef) -> (f64, f64) {
    let x = def
        .nodes
        .iter()
        .map(|n| n.position.x)
        .fold(-NODE_W - 2.0 * GRID, f64::max)
        + NODE_W
        + 3.0 * GRID;
    (snap(x), 2.0 * GRID)
}

/// Moves the nodes by a grid-snapped delta.
pub fn move_by(def: &mut WorkflowDef, ids: &BTreeSet<String>, delta: (f64, f64)) {
    for n in def.nodes.iter_mut().filter(|n| ids.contains(&n.id)) {
        n.position = moved(n.position, delta);
    }
}

/// Where a node at `p` lands when dragged by `delta`.
pub fn moved(p: crate::domain::Position, delta: (f64, f64)) -> crate::domain::Position {
    crate::domain::Position {
        x: snap(p.x + delta.0),
        y: snap(p.y + delta.1),
    }
}

#[cfg(test)]
mod tests {
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
    fn moves_snap_to_the_grid() {
        let mut def = WorkflowDef::minimal();
        move_by(&mut def, &set(&["end"]), (100.0, -200.0));
        let p = def.node("end").unwrap().position;
        assert_eq!((p.x, p.y), (460.0, 0.0), "never above the origin");
    }
}
