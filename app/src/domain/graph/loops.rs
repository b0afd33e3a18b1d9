//! Bounded loops: an edge back to a loop's entry (a step with
//! `max_iterations`) from a step the entry leads to. The machine ignores
//! such edges when deciding what runs next; taking one starts a new pass.

use super::WorkflowDef;
use std::collections::BTreeSet;

impl WorkflowDef {
    /// The indexes of the edges that go back to a loop's entry: edges into
    /// a step with `max_iterations` from a step it leads to, found as the
    /// back edges of a depth-first walk from the steps nothing leads to
    /// (so in nested loops the edge from an outer loop's entry into an
    /// inner one is not mistaken for one).
    pub fn back_edges(&self) -> BTreeSet<usize> {
        let mut back = BTreeSet::new();
        if self.nodes.iter().all(|n| n.max_iterations.is_none()) {
            return back;
        }
        let index: std::collections::HashMap<&str, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        let mut out: Vec<Vec<(usize, usize)>> = vec![vec![]; self.nodes.len()];
        let mut has_in = vec![false; self.nodes.len()];
        for (ei, e) in self.edges.iter().enumerate() {
            if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
                out[a].push((ei, b));
                has_in[b] = true;
            }
        }
        // 0: not seen, 1: on the walk's path, 2: done
        let mut mark = vec![0u8; self.nodes.len()];
        let roots = (0..self.nodes.len())
            .filter(|i| !has_in[*i])
            .chain(0..self.nodes.len());
        for root in roots {
            if mark[root] != 0 {
                continue;
            }
            mark[root] = 1;
            let mut path: Vec<(usize, usize)> = vec![(root, 0)];
            while let Some((at, next)) = path.last_mut() {
                let at = *at;
                if let Some(&(ei, to)) = out[at].get(*next) {
                    *next += 1;
                    match mark[to] {
                        0 => {
                            mark[to] = 1;
                            path.push((to, 0));
                        }
                        1 if self.nodes[to].max_iterations.is_some() => {
                            back.insert(ei);
                        }
                        _ => {}
                    }
                } else {
                    mark[at] = 2;
                    path.pop();
                }
            }
        }
        back
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
