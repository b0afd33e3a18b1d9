//! Auto-layout: a layered drawing, left to right (Sugiyama-style, kept
//! small): layers by longest path from the roots, order inside each layer
//! by a few barycenter sweeps, then grid coordinates.

use super::geometry::{GRID, NODE_H, NODE_W, ports};
use crate::domain::{Position, WorkflowDef};
use std::collections::HashMap;

const GAP_X: f64 = 100.0;
const GAP_Y: f64 = 40.0;
const MARGIN: f64 = 40.0;
const SWEEPS: usize = 4;

/// New positions for every node, keyed by id.
pub fn layered(def: &WorkflowDef) -> HashMap<String, Position> {
    let n = def.nodes.len();
    let index: HashMap<&str, usize> = def
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    // (from, to, where on `from` the edge leaves: port order in [0, 1])
    let mut out: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for e in &def.edges {
        let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) else {
            continue;
        };
        let ps = ports(&def.nodes[a]);
        let p = ps.iter().position(|p| *p == e.port).unwrap_or(0);
        out[a].push((b, (p as f64 + 1.0) / (ps.len() as f64 + 1.0)));
    }
    let order = dfs_order(def, &out);
    let dag = drop_back_edges(&order, &out);

    // longest path layering over the acyclic edges, in DFS (topological) order
    let mut layer = vec![0usize; n];
    let topo = topological(&dag, &order);
    for &a in &topo {
        for &(b, _) in &dag[a] {
            layer[b] = layer[b].max(layer[a] + 1);
        }
    }
    let depth = layer.iter().copied().max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for &i in &order {
        layers[layer[i]].push(i);
    }

    let mut pos = vec![0.0f64; n];
    let place = |layers: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for l in layers {
            for (k, &i) in l.iter().enumerate() {
                pos[i] = k as f64;
            }
        }
    };
    place(&layers, &mut pos);
    let mut preds: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for (a, outs) in dag.iter().enumerate() {
        for &(b, port) in outs {
            preds[b].push((a, port));
        }
    }
    for sweep in 0..SWEEPS {
        let down = sweep % 2 == 0;
        let range: Vec<usize> = if down {
            (1..depth).collect()
        } else {
            (0..depth.saturating_sub(1)).rev().collect()
        };
        for l in range {
            let key = |i: usize| -> Option<f64> {
                let neigh: Vec<f64> = if down {
                    preds[i].iter().map(|&(p, port)| pos[p] + port).collect()
                } else {
                    dag[i].iter().map(|&(s, _)| pos[s]).collect()
                };
                (!neigh.is_empty()).then(|| neigh.iter().sum::<f64>() / neigh.len() as f64)
            };
            let mut keyed: Vec<(f64, usize)> = layers[l]
                .iter()
                .map(|&i| (key(i).unwrap_or(pos[i]), i))
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            layers[l] = keyed.into_iter().map(|(_, i)| i).collect();
            place(&layers, &mut pos);
        }
    }

    let tallest = layers.iter().map(Vec::len).max().unwrap_or(1);
    let row = NODE_H + GAP_Y;
    let mut result = HashMap::with_capacity(n);
    for (l, nodes) in layers.iter().enumerate() {
        let top = (tallest - nodes.len()) as f64 * row / 2.0;
        for (k, &i) in nodes.iter().enumerate() {
            let y = MARGIN + top + k as f64 * row;
            result.insert(
                def.nodes[i].id.clone(),
                Position {
                    x: MARGIN + l as f64 * (NODE_W + GAP_X),
                    y: (y / GRID).round() * GRID,
                },
            );
        }
    }
    result
}

/// Nodes in depth-first order from the roots (Start first, then nodes
/// nothing points at, then whatever is left, e.g. pure cycles).
fn dfs_order(def: &WorkflowDef, out: &[Vec<(usize, f64)>]) -> Vec<usize> {
    let n = def.nodes.len();
    let mut has_in = vec![false; n];
    for outs in out {
        for &(b, _) in outs {
            has_in[b] = true;
        }
    }
    let mut roots: Vec<usize> = (0..n).filter(|&i| !has_in[i]).collect();
    roots.sort_by_key(|&i| def.nodes[i].kind.type_name() != "start");
    roots.extend(0..n);
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for r in roots {
        if seen[r] {
            continue;
        }
        // iterative pre-order DFS, children in port order
        let mut stack = vec![r];
        while let Some(i) = stack.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            order.push(i);
            let mut next: Vec<&(usize, f64)> = out[i].iter().collect();
            next.sort_by(|a, b| b.1.total_cmp(&a.1));
            stack.extend(next.into_iter().map(|&(b, _)| b).filter(|&b| !seen[b]));
        }
    }
    order
}

/// Removes the edges that close a cycle (those found pointing back to a
/// node still on the DFS path).
fn drop_back_edges(order: &[usize], out: &[Vec<(usize, f64)>]) -> Vec<Vec<(usize, f64)>> {
    let n = out.len();
    // 0 = new, 1 = on the path, 2 = done
    let mut state = vec![0u8; n];
    let mut dag: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for &root in order {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (i, ref mut k)) = stack.last_mut() {
            if let Some(&(b, port)) = out[i].get(*k) {
                *k += 1;
                match state[b] {
                    1 => {} // back edge: leave it out
                    0 => {
                        dag[i].push((b, port));
                        state[b] = 1;
                        stack.push((b, 0));
                    }
                    _ => dag[i].push((b, port)),
                }
            } else {
                state[i] = 2;
                stack.pop();
            }
        }
    }
    dag
}

/// Kahn's algorithm, ties broken by DFS order.
fn topological(dag: &[Vec<(usize, f64)>], order: &[usize]) -> Vec<usize> {
    let n = dag.len();
    let mut indeg = vec![0usize; n];
    for outs in dag {
        for &(b, _) in outs {
            indeg[b] += 1;
        }
    }
    let mut ready: std::collections::VecDeque<usize> =
        order.iter().copied().filter(|&i| indeg[i] == 0).collect();
    let mut topo = Vec::with_capacity(n);
    while let Some(i) = ready.pop_front() {
        topo.push(i);
        for &(b, _) in &dag[i] {
            indeg[b] -= 1;
            if indeg[b] == 0 {
                ready.push_back(b);
            }
        }
    }
    topo
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::example::invoice_approval;
    use crate::domain::{Edge, Node, NodeKind};

    fn overlaps(a: Position, b: Position) -> bool {
        (a.x - b.x).abs() < NODE_W && (a.y - b.y).abs() < NODE_H
    }

    fn check_layout(def: &WorkflowDef) -> HashMap<String, Position> {
        let p = layered(def);
        assert_eq!(p.len(), def.nodes.len(), "every node gets a place");
        let all: Vec<_> = p.values().copied().collect();
        for (i, a) in all.iter().enumerate() {
            assert_eq!(a.y % GRID, 0.0);
            for b in &all[i + 1..] {
                assert!(!overlaps(*a, *b), "{a:?} overlaps {b:?}");
            }
        }
        p
    }

    #[test]
    fn every_edge_points_right_in_an_acyclic_graph() {
        let def = invoice_approval();
        let p = check_layout(&def);
        for e in &def.edges {
            assert!(p[&e.from].x < p[&e.to].x, "{e:?}");
        }
        assert_eq!(p["start"].x, MARGIN, "Start is in the first column");
    }

    #[test]
    fn branches_stack_and_keep_their_port_order() {
        let t = |id: &str| Node::new(id, id, NodeKind::Join {});
        let mut def = WorkflowDef::minimal();
        def.nodes.push(Node::new(
            "b",
            "B",
            NodeKind::Branch {
                conditions: vec![crate::domain::BranchCondition {
                    label: "yes".into(),
                    expression: "true".into(),
                }],
            },
        ));
        def.nodes.extend([t("first"), t("second"), t("j")]);
        def.edges = vec![
            Edge::new("start", "out", "b"),
            // drawn in the opposite order of the ports
            Edge::new("b", "default", "second"),
            Edge::new("b", "yes", "first"),
            Edge::new("first", "out", "j"),
            Edge::new("second", "out", "j"),
            Edge::new("j", "out", "end"),
        ];
        let p = check_layout(&def);
        assert_eq!(p["first"].x, p["second"].x);
        assert!(p["first"].y < p["second"].y, "port order top to bottom");
        assert!(p["j"].x > p["first"].x && p["end"].x > p["j"].x);
    }

    #[test]
    fn cycles_and_loose_nodes_still_get_places() {
        let mut def = WorkflowDef::minimal();
        def.nodes
            .push(Node::new("x", "X", NodeKind::Join {}).at(999.0, 999.0));
        def.nodes.push(Node::new("y", "Y", NodeKind::Join {}));
        def.edges.push(Edge::new("x", "out", "y"));
        def.edges.push(Edge::new("y", "out", "x"));
        check_layout(&def);
        check_layout(&WorkflowDef {
            nodes: vec![],
            edges: vec![],
            settings: Default::default(),
        });
    }
}
