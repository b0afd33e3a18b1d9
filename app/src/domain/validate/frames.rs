//! For each frames: a node's `parent` must be a For each, frames nest at
//! most `MAX_NESTING` deep, and no edge crosses a frame's border.

use super::{ProblemKind, Problems, label};
use crate::domain::graph::*;
use std::collections::HashMap;

pub(super) fn check_frames(p: &mut Problems, def: &WorkflowDef, by_id: &HashMap<&str, &Node>) {
    for n in def.nodes.iter().filter(|n| n.parent.is_some()) {
        let parent = n.parent.as_deref().unwrap_or_default();
        match def.nesting(&n.id) {
            None => {
                let why = match by_id.get(parent) {
                    None => format!("it is drawn inside '{parent}', which does not exist"),
                    Some(f) if !matches!(f.kind, NodeKind::ForEach(_)) => format!(
                        "it is drawn inside {}, which is not a For each step",
                        label(f)
                    ),
                    Some(_) => "its frames are drawn inside one another in a circle".into(),
                };
                p.node(
                    ProblemKind::InvalidFrame,
                    n,
                    format!("{why}; move it onto the canvas or into a For each frame"),
                );
            }
            Some(depth) if depth > MAX_NESTING => p.node(
                ProblemKind::InvalidFrame,
                n,
                format!(
                    "For each frames nest {depth} deep here, more than {MAX_NESTING}; move it out of one, or use a Sub-workflow"
                ),
            ),
            Some(_) => {}
        }
    }
    for (i, e) in def.edges.iter().enumerate() {
        let (Some(from), Some(to)) = (by_id.get(e.from.as_str()), by_id.get(e.to.as_str())) else {
            continue;
        };
        if from.parent != to.parent {
            let side = |n: &Node| match &n.parent {
                Some(f) => format!("inside For each '{f}'"),
                None => "outside every For each".to_string(),
            };
            p.edge(
                ProblemKind::EdgeAcrossFrame,
                i,
                format!(
                    "the edge {} -> {} crosses a For each frame ('{}' is {}, '{}' is {}); a body's steps connect only to each other, and the For each step's own edges leave its frame",
                    e.from,
                    e.to,
                    e.from,
                    side(from),
                    e.to,
                    side(to)
                ),
            );
        }
    }
}
