//! Bounded loops: an edge back to a loop's entry (a step with
//! `max_iterations`) from a step the entry leads to. The machine ignores
//! such edges when deciding what runs next; taking one starts a new pass.

use super::WorkflowDef;
use std::collections::BTreeSet;

impl WorkflowDef {
    /// The indexes of the edges that go back to a loop's entry: into a step
    /// with `max_iterations`, from a step that entry reaches without
    /// passing through it again.
    pub fn back_edges(&self) -> BTreeSet<usize> {
        let mut back = BTreeSet::new();
        for entry in self.nodes.iter().filter(|n| n.max_iterations.is_some()) {
            let reached = self.reach_from(&entry.id);
            for (i, e) in self.edges.iter().enumerate() {
                if e.to == entry.id && reached.contains(e.from.as_str()) {
                    back.insert(i);
                }
            }
        }
        back
    }

    /// The steps `from` leads to (itself included), not going through an
    /// edge into `from`.
    fn reach_from<'a>(&'a self, from: &'a str) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::from([from]);
        let mut stack = vec![from];
        while let Some(at) = stack.pop() {
            for e in self.edges.iter().filter(|e| e.from == at && e.to != from) {
                if seen.insert(e.to.as_str()) {
                    stack.push(e.to.as_str());
                }
            }
        }
        seen
    }

    /// The steps of the loop that the back edge from `source` into `entry`
    /// closes: every step on a path from the entry to the source (both
    /// included), by forward edges.
    pub fn loop_body(&self, entry: &str, source: &str) -> BTreeSet<String> {
        let back = self.back_edges();
        let forward: Vec<&super::Edge> = self
            .edges
            .iter()
            .enumerate()
            .filter(|(i, _)| !back.contains(i))
            .map(|(_, e)| e)
            .collect();
        let walk = |start: &str, along: &dyn Fn(&super::Edge) -> (String, String)| {
            let mut seen = BTreeSet::from([start.to_string()]);
            let mut stack = vec![start.to_string()];
            while let Some(at) = stack.pop() {
                for e in &forward {
                    let (a, b) = along(e);
                    if a == at && seen.insert(b.clone()) {
                        stack.push(b);
                    }
                }
            }
            seen
        };
        let down = walk(entry, &|e| (e.from.clone(), e.to.clone()));
        let up = walk(source, &|e| (e.to.clone(), e.from.clone()));
        down.intersection(&up).cloned().collect()
    }

    /// The steps forward edges lead to from `from` (not included).
    pub fn downstream(&self, from: &BTreeSet<String>) -> BTreeSet<String> {
        let back = self.back_edges();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut stack: Vec<String> = from.iter().cloned().collect();
        while let Some(at) = stack.pop() {
            for (i, e) in self.edges.iter().enumerate() {
                if e.from == at
                    && !back.contains(&i)
                    && !from.contains(&e.to)
                    && seen.insert(e.to.clone())
                {
                    stack.push(e.to.clone());
                }
            }
        }
        seen
    }
}
