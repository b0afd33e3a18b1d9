//! Walks over the graph for validation: what a step reaches, and the
//! loops in it.

use crate::domain::graph::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(super) fn reachable<'a>(
    start: &'a str,
    out: &BTreeMap<&'a str, Vec<&'a Edge>>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::from([start]);
    let mut stack = vec![start];
    while let Some(id) = stack.pop() {
        for e in out.get(id).into_iter().flatten() {
            if seen.insert(e.to.as_str()) {
                stack.push(e.to.as_str());
            }
        }
    }
    seen
}

/// One representative loop per strongly connected part of the graph,
/// found by an iterative depth-first search (no recursion: graphs may be big).
pub(super) fn cycles<'a>(
    nodes: &'a [Node],
    out: &BTreeMap<&'a str, Vec<&'a Edge>>,
) -> Vec<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark: HashMap<&str, Mark> = nodes.iter().map(|n| (n.id.as_str(), Mark::New)).collect();
    let mut found = Vec::new();
    for root in nodes {
        if mark[root.id.as_str()] != Mark::New {
            continue;
        }
        let mut path: Vec<&str> = vec![root.id.as_str()];
        let mut iters: Vec<usize> = vec![0];
        mark.insert(root.id.as_str(), Mark::Active);
        while let Some(&node) = path.last() {
            let i = *iters.last().unwrap();
            let edges = out.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if i < edges.len() {
                *iters.last_mut().unwrap() += 1;
                let next = edges[i].to.as_str();
                match mark.get(next).copied().unwrap_or(Mark::Done) {
                    Mark::New => {
                        mark.insert(next, Mark::Active);
                        path.push(next);
                        iters.push(0);
                    }
                    Mark::Active => {
                        let from = path.iter().position(|&n| n == next).unwrap_or(0);
                        let mut cycle: Vec<&str> = path[from..].to_vec();
                        cycle.push(next);
                        found.push(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                mark.insert(node, Mark::Done);
                path.pop();
                iters.pop();
            }
        }
    }
    found
}
