//! Graph edits the designer makes, as plain functions over the definition:
//! removing a selection, copying and pasting part of a graph, and finding
//! where the next step connects.

use super::geometry::{GRID, NODE_W, ports, snap};
use crate::domain::{Edge, Node, NodeKind, WorkflowDef};
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
        // inside a copied frame: inside the copy
        if let Some(p) = &n.parent
            && let Some(new) = renamed.get(p.as_str())
        {
            copy.parent = Some(new.clone());
        }
        def.nodes.push(copy);
    }
    for e in &f.edges {
        if let (Some(a), Some(b)) = (renamed.get(e.from.as_str()), renamed.get(e.to.as_str())) {
            def.edges.push(Edge::new(a, &e.port, b));
        }
    }
    taken
}

/// Removes the nodes (a For each with its body) and every edge that
/// touches them.
pub fn remove(def: &mut WorkflowDef, ids: &BTreeSet<String>) {
    let mut ids = ids.clone();
    for id in ids.clone() {
        ids.extend(def.inside(&id).iter().map(|n| n.id.clone()));
    }
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

/// Connects `from` to `to` from its first free output (its error path
/// when every other is taken; else its first output, which then leads to
/// both), and says what it did.
pub fn connect(def: &mut WorkflowDef, from: &str, to: &str) -> String {
    let (a, b) = (name_of(def, from), name_of(def, to));
    let error_free = def.node(from).is_some_and(|n| {
        ports(n).iter().any(|p| p == crate::domain::PORT_ERROR)
            && !def
                .edges
                .iter()
                .any(|e| e.from == from && e.port == crate::domain::PORT_ERROR)
    });
    let port = free_port(def, from)
        .or_else(|| error_free.then(|| crate::domain::PORT_ERROR.to_string()))
        .or_else(|| def.node(from).and_then(main_port));
    let Some(port) = port else {
        return format!("“{a}” has no outputs: nothing was connected.");
    };
    let edge = Edge::new(from, &port, to);
    if from == to || def.edges.iter().any(|e| e.from == from && e.to == to) {
        return format!("“{a}” already leads to “{b}”.");
    }
    def.edges.push(edge);
    format!("Connected “{a}” ({port}) to “{b}”.")
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

/// The step an arrow key moves to from `id`: right follows its first
/// outgoing connection, left its first incoming one; up and down go to
/// the nearest step above or below (those in the same column first).
pub fn neighbour(def: &WorkflowDef, id: &str, key: &str) -> Option<String> {
    match key {
        "ArrowRight" => def
            .edges
            .iter()
            .find(|e| e.from == id)
            .map(|e| e.to.clone()),
        "ArrowLeft" => def
            .edges
            .iter()
            .find(|e| e.to == id)
            .map(|e| e.from.clone()),
        "ArrowDown" | "ArrowUp" => {
            let at = def.node(id)?.position;
            let down = key == "ArrowDown";
            def.nodes
                .iter()
                .filter(|n| n.id != id)
                .filter(|n| {
                    if down {
                        n.position.y > at.y
                    } else {
                        n.position.y < at.y
                    }
                })
                .min_by(|a, b| {
                    let cost =
                        |n: &Node| (n.position.y - at.y).abs() + 2.0 * (n.position.x - at.x).abs();
                    cost(a).total_cmp(&cost(b))
                })
                .map(|n| n.id.clone())
        }
        _ => None,
    }
}

/// Where a step added after `id` goes: one column to the right, below
/// whatever already sits there.
pub fn place_after(def: &WorkflowDef, id: &str) -> Option<(f64, f64)> {
    let n = def.node(id)?;
    // after a For each: right of its frame, not inside it
    let inside = def.inside(id);
    let right = inside
        .iter()
        .map(|c| c.position.x + super::frames::FRAME_PAD)
        .fold(n.position.x, f64::max);
    let x = snap(right + NODE_W + 3.0 * GRID);
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
#[path = "edit_tests.rs"]
mod tests;

/// Renames label `i` of LLM step `id` to `name`; the connections leaving
/// by that label (its port) follow.
pub fn rename_label(def: &mut WorkflowDef, id: &str, i: usize, name: &str) {
    let Some(NodeKind::Llm(c)) = def
        .nodes
        .iter_mut()
        .find(|n| n.id == id)
        .map(|n| &mut n.kind)
    else {
        return;
    };
    let Some(l) = c.labels.get_mut(i) else {
        return;
    };
    let old = std::mem::replace(&mut l.name, name.to_string());
    for e in def
        .edges
        .iter_mut()
        .filter(|e| e.from == id && e.port == old)
    {
        e.port = name.to_string();
    }
}
