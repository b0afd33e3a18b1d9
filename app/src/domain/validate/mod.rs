//! The one validation function, used live by the designer and by the server
//! on save and on start. Every problem names the node (or edge) at fault and
//! says what to do about it.

mod config;
pub mod email;
mod frames;
mod llm;
mod loops;
mod problem;
mod ranges;
pub mod refs;
mod walk;

use super::graph::*;
pub use config::MAX_CODE_BYTES;
use config::{check_node_config, check_settings};
pub use problem::{Problem, ProblemKind};
use problem::{Problems, label};
pub use ranges::moved_only;
use ranges::{check_node_ranges, check_settings_ranges, too_large};
pub use refs::remember_checked;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use walk::{cycles, reachable};

/// A node id is used in expressions (`.steps.<id>`), URLs and logs.
pub fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Validates a workflow definition. An empty list means it can run.
pub fn validate(def: &WorkflowDef) -> Vec<Problem> {
    let mut p = Problems(Vec::new());
    if let Some(message) = too_large(def) {
        p.workflow(ProblemKind::InvalidSetting, message);
        return p.0;
    }
    let mut by_id: HashMap<&str, &Node> = HashMap::new();
    for n in &def.nodes {
        if !valid_node_id(&n.id) {
            p.node(
                ProblemKind::InvalidId,
                n,
                "the id must start with a lowercase letter and use only a-z, 0-9, '_' and '-' (at most 64 characters)".into(),
            );
        }
        if by_id.insert(n.id.as_str(), n).is_some() {
            p.node(
                ProblemKind::DuplicateId,
                n,
                "another node has the same id; give each node its own id".into(),
            );
        }
        check_node_config(&mut p, n);
        check_node_ranges(&mut p, n);
    }
    check_settings(&mut p, def);
    check_settings_ranges(&mut p, def);
    frames::check_frames(&mut p, def, &by_id);
    check_scope(&mut p, def, None);
    for frame in def.bodies() {
        check_scope(&mut p, def, Some(frame));
    }
    p.0
}

/// The graph checks of one scope: the workflow's own steps (`frame` none)
/// or a For each body. Problems name edges by their index in `whole`.
fn check_scope(p: &mut Problems, whole: &WorkflowDef, frame: Option<&Node>) {
    let (def, edge_index) = whole.scoped(frame.map(|f| f.id.as_str()));
    let def = &def;
    let first = p.0.len();
    let by_id: HashMap<&str, &Node> = def.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    refs::check_step_refs(p, def, whole);
    let (scope, place) = match frame {
        None => ("the workflow".to_string(), "where runs begin".to_string()),
        Some(f) => (
            format!("the body of {}", label(f)),
            "inside its frame, where each item begins".to_string(),
        ),
    };

    let starts: Vec<&Node> = def
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Start { .. }))
        .collect();
    match starts.len() {
        0 => match frame {
            None => p.workflow(
                ProblemKind::MissingStart,
                format!("{scope} has no Start node; add one {place}"),
            ),
            Some(f) => p.node(
                ProblemKind::MissingStart,
                f,
                format!("its body has no Start node; add one {place}"),
            ),
        },
        1 => {}
        _ => {
            for extra in &starts[1..] {
                p.node(
                    ProblemKind::ExtraStart,
                    extra,
                    format!(
                        "{scope} has exactly one Start node and '{}' is already one; remove this one",
                        starts[0].id
                    ),
                );
            }
        }
    }

    // Edges that point at real nodes and real ports; the rest are reported
    // and left out of the graph checks below.
    let mut good: Vec<&Edge> = Vec::new();
    let mut seen: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    for (i, e) in def.edges.iter().enumerate() {
        let (Some(from), Some(to)) = (by_id.get(e.from.as_str()), by_id.get(e.to.as_str())) else {
            let missing: Vec<&str> = [e.from.as_str(), e.to.as_str()]
                .into_iter()
                .filter(|id| !by_id.contains_key(id))
                .collect();
            p.edge(
                ProblemKind::DanglingEdge,
                i,
                format!(
                    "the edge {} -> {} refers to a node that does not exist ({}); delete the edge or add the node",
                    e.from,
                    e.to,
                    missing.join(", ")
                ),
            );
            continue;
        };
        let ports = from.ports();
        let port_ok = ports.contains(&e.port) || (e.port == PORT_ERROR && from.kind.can_error());
        if !port_ok {
            let mut names = ports.clone();
            if from.kind.can_error() {
                names.push(PORT_ERROR.into());
            }
            let msg = if names.is_empty() {
                format!(
                    "the run ends here, so it cannot have outgoing edges; delete the edge to '{}'",
                    e.to
                )
            } else {
                format!(
                    "has no port '{}' (its ports are: {}); reconnect the edge to '{}'",
                    e.port,
                    names.join(", "),
                    e.to
                )
            };
            p.0.push(Problem {
                kind: ProblemKind::UnknownPort,
                node: Some(from.id.clone()),
                edge: Some(i),
                message: format!("{}: {msg}", label(from)),
            });
            continue;
        }
        if matches!(to.kind, NodeKind::Start { .. }) {
            p.0.push(Problem {
                kind: ProblemKind::EdgeIntoStart,
                node: Some(to.id.clone()),
                edge: Some(i),
                message: format!(
                    "{}: nothing may lead into the Start node; delete the edge from '{}'",
                    label(to),
                    e.from
                ),
            });
            continue;
        }
        if !seen.insert((&e.from, &e.port, &e.to)) {
            p.edge(
                ProblemKind::DuplicateEdge,
                i,
                format!(
                    "the edge {} -[{}]-> {} is drawn twice; delete one",
                    e.from, e.port, e.to
                ),
            );
            continue;
        }
        good.push(e);
    }

    let mut out: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
    let mut incoming: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &good {
        out.entry(e.from.as_str()).or_default().push(e);
        *incoming.entry(e.to.as_str()).or_default() += 1;
    }

    for n in &def.nodes {
        let outs = out.get(n.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let has_port = |port: &str| outs.iter().any(|e| e.port == port);
        match &n.kind {
            NodeKind::Branch { conditions } => {
                if conditions.is_empty() {
                    p.node(
                        ProblemKind::BranchWithoutConditions,
                        n,
                        "add at least one condition".into(),
                    );
                }
                if !has_port(PORT_DEFAULT) {
                    p.node(
                        ProblemKind::BranchWithoutDefault,
                        n,
                        "connect its 'default' port: it is taken when no condition holds".into(),
                    );
                }
                for c in conditions {
                    if !c.label.is_empty() && c.label != PORT_DEFAULT && !has_port(&c.label) {
                        p.node(
                            ProblemKind::UnconnectedCondition,
                            n,
                            format!(
                                "condition '{}' leads nowhere; connect its port or remove the condition",
                                c.label
                            ),
                        );
                    }
                }
            }
            NodeKind::Llm(cfg) if cfg.mode == LlmMode::Classify => {
                for l in &cfg.labels {
                    if !l.name.is_empty() && !has_port(&l.name) {
                        p.node(
                            ProblemKind::UnconnectedCondition,
                            n,
                            format!(
                                "label '{}' leads nowhere; connect its port or remove the label",
                                l.name
                            ),
                        );
                    }
                }
            }
            NodeKind::Join {} => {
                let count = incoming.get(n.id.as_str()).copied().unwrap_or(0);
                if count < 2 {
                    p.node(
                        ProblemKind::JoinNeedsTwoPaths,
                        n,
                        format!(
                            "a Join waits for several paths but {count} lead into it; connect at least two or remove the Join"
                        ),
                    );
                }
            }
            NodeKind::End { .. } | NodeKind::Fail { .. } => {}
            _ => {
                if !outs.iter().any(|e| e.port != PORT_ERROR) {
                    p.node(
                        ProblemKind::DeadEnd,
                        n,
                        "nothing follows this step; connect it to the next step or to an End"
                            .into(),
                    );
                }
            }
        }
    }

    if let [start] = starts.as_slice() {
        let reached = reachable(start.id.as_str(), &out);
        for n in &def.nodes {
            if !reached.contains(n.id.as_str()) && !matches!(n.kind, NodeKind::Start { .. }) {
                p.node(
                    ProblemKind::Unreachable,
                    n,
                    "no path from Start reaches this node; connect it or delete it".into(),
                );
            }
        }
    }

    // an edge back to a bounded loop's entry is what makes the loop
    let back: BTreeSet<(&str, &str, &str)> = def
        .back_edges()
        .into_iter()
        .map(|i| &def.edges[i])
        .map(|e| (e.from.as_str(), e.port.as_str(), e.to.as_str()))
        .collect();
    let forward: BTreeMap<&str, Vec<&Edge>> = out
        .iter()
        .map(|(k, es)| {
            let keep = es
                .iter()
                .filter(|e| !back.contains(&(e.from.as_str(), e.port.as_str(), e.to.as_str())))
                .copied()
                .collect();
            (*k, keep)
        })
        .collect();
    for cycle in cycles(&def.nodes, &forward) {
        let first = by_id[cycle[0]];
        p.node(
            ProblemKind::Cycle,
            first,
            format!(
                "the steps {} form a loop without a bound; set max_iterations on '{}' (where each pass starts) to make it a bounded loop, or remove one of its edges",
                cycle.join(" -> "),
                cycle[0]
            ),
        );
    }
    loops::check_loops(p, def);
    for problem in &mut p.0[first..] {
        if let Some(i) = problem.edge {
            problem.edge = edge_index.get(i).copied();
        }
    }
}

#[cfg(test)]
mod frame_tests;
#[cfg(test)]
mod loop_tests;
#[cfg(test)]
mod recheck_tests;
#[cfg(test)]
mod tests;
