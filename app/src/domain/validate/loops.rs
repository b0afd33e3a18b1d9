//! Bounded loops: an entry's bound is in range, something connects back to
//! it, and the loop has a way out.

use super::{ProblemKind, Problems};
use crate::domain::graph::*;
use std::collections::BTreeSet;

pub(super) fn check_loops(p: &mut Problems, def: &WorkflowDef) {
    let back = def.back_edges();
    for entry in def.nodes.iter() {
        let Some(max) = entry.max_iterations else {
            continue;
        };
        if !(1..=MAX_ITERATIONS).contains(&max) {
            p.node(
                ProblemKind::InvalidSetting,
                entry,
                format!("max_iterations must be from 1 to {MAX_ITERATIONS}, not {max}"),
            );
        }
        let sources: Vec<&Edge> = back
            .iter()
            .map(|i| &def.edges[*i])
            .filter(|e| e.to == entry.id)
            .collect();
        if sources.is_empty() {
            p.node(
                ProblemKind::MissingConfig,
                entry,
                "it has max_iterations but no later step connects back to it; connect the step that decides to go round again, or clear max_iterations".into(),
            );
            continue;
        }
        let body: BTreeSet<String> = sources
            .iter()
            .flat_map(|e| def.loop_body(&entry.id, &e.from))
            .collect();
        let leaves = def.edges.iter().enumerate().any(|(i, e)| {
            !back.contains(&i)
                && body.contains(&e.from)
                && !body.contains(&e.to)
                && e.port != PORT_EXHAUSTED
        });
        let exhausted = def
            .edges
            .iter()
            .any(|e| e.from == entry.id && e.port == PORT_EXHAUSTED);
        if !leaves && !exhausted {
            p.node(
                ProblemKind::DeadEnd,
                entry,
                "its loop has no way out: connect a step of the loop onward (an Approval's 'out', a Branch's other label) or connect its 'exhausted' port".into(),
            );
        }
    }
}
