//! Which part of a large graph is drawn: the steps and connections near
//! the visible part of the canvas. A thousand-step graph draws about a
//! hundred cards, so it opens quickly and a drag repaints little; the
//! rest appear as the view scrolls to them.

use super::geometry::{NODE_H, NODE_W};
use crate::domain::{Position, WorkflowDef};
use std::collections::{BTreeSet, HashMap};

/// A rectangle of the graph, in canvas units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    /// Whether the box from `(x0, y0)` to `(x1, y1)` overlaps this one.
    fn meets(&self, (x0, y0): (f64, f64), (x1, y1): (f64, f64)) -> bool {
        x0 < self.x + self.w && x1 > self.x && y0 < self.y + self.h && y1 > self.y
    }
}

/// The drawn area snaps out to whole blocks of this size, so it changes
/// when scrolling crosses a block rather than at every scroll event.
const BLOCK: f64 = 240.0;

/// At most this many selected steps are drawn wherever they are (so the
/// selected step can always be focused and shown); a larger selection,
/// such as Select all, is drawn where it is in view like the rest.
pub const KEEP_SELECTED: usize = 64;

/// The area to draw for the visible part `view`: the view and an eighth
/// of it again on every side (a short scroll or a wider canvas shows steps
/// that are already drawn), widened to whole blocks. Nothing is drawn
/// before the view has a size.
pub fn drawn_area(view: Rect) -> Rect {
    if view.w <= 0.0 || view.h <= 0.0 {
        return Rect::default();
    }
    let (mx, my) = (view.w / 8.0, view.h / 8.0);
    let x0 = ((view.x - mx) / BLOCK).floor() * BLOCK;
    let y0 = ((view.y - my) / BLOCK).floor() * BLOCK;
    let x1 = ((view.x + view.w + mx) / BLOCK).ceil() * BLOCK;
    let y1 = ((view.y + view.h + my) / BLOCK).ceil() * BLOCK;
    Rect {
        x: x0,
        y: y0,
        w: x1 - x0,
        h: y1 - y0,
    }
}

fn card(p: Position) -> ((f64, f64), (f64, f64)) {
    ((p.x, p.y), (p.x + NODE_W, p.y + NODE_H))
}

/// The steps to draw, in the graph's order: those in `area`, and the
/// selected ones (see [`KEEP_SELECTED`]).
pub fn nodes_in(d: &WorkflowDef, area: Rect, selected: &BTreeSet<String>) -> Vec<String> {
    let keep = selected.len() <= KEEP_SELECTED;
    d.nodes
        .iter()
        .filter(|n| {
            let (a, b) = card(n.position);
            area.meets(a, b) || (keep && selected.contains(&n.id))
        })
        .map(|n| n.id.clone())
        .collect()
}

/// The connections to draw: those whose box (both ends' cards) overlaps
/// `area`, which includes a long one passing through it. `index` maps a
/// step id to its place in `d.nodes`.
pub fn edges_in(
    d: &WorkflowDef,
    index: &HashMap<String, usize>,
    area: Rect,
) -> Vec<crate::domain::Edge> {
    let at = |id: &str| {
        index
            .get(id)
            .and_then(|&i| d.nodes.get(i))
            .map(|n| n.position)
    };
    d.edges
        .iter()
        .filter(|e| match (at(&e.from), at(&e.to)) {
            (Some(a), Some(b)) => {
                let ((ax0, ay0), (ax1, ay1)) = card(a);
                let ((bx0, by0), (bx1, by1)) = card(b);
                area.meets((ax0.min(bx0), ay0.min(by0)), (ax1.max(bx1), ay1.max(by1)))
            }
            // a connection to a missing step is a problem the person must
            // see: it is drawn wherever the view is
            _ => true,
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Edge, Node, NodeKind};

    fn grid(n: usize) -> WorkflowDef {
        let nodes = (0..n)
            .map(|i| {
                let mut node = Node::new(
                    &format!("s{i}"),
                    "Step",
                    NodeKind::Transform {
                        expression: ".".into(),
                    },
                );
                node.position = Position {
                    x: (i % 10) as f64 * 240.0,
                    y: (i / 10) as f64 * 100.0,
                };
                node
            })
            .collect();
        let edges = (1..n)
            .map(|i| Edge::new(&format!("s{}", i - 1), "out", &format!("s{i}")))
            .collect();
        WorkflowDef {
            nodes,
            edges,
            ..Default::default()
        }
    }

    fn index(d: &WorkflowDef) -> HashMap<String, usize> {
        d.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect()
    }

    #[test]
    fn the_drawn_area_covers_the_view_and_snaps_to_blocks() {
        let view = Rect {
            x: 1000.0,
            y: 500.0,
            w: 900.0,
            h: 600.0,
        };
        let a = drawn_area(view);
        assert!(
            a.x <= view.x - view.w / 8.0 && a.y <= view.y - view.h / 8.0,
            "{a:?}"
        );
        assert!(
            a.x + a.w >= view.x + 1.125 * view.w && a.y + a.h >= view.y + 1.125 * view.h,
            "{a:?}"
        );
        assert_eq!(a.x % BLOCK, 0.0);
        // a small scroll inside the block draws the same area
        assert_eq!(
            drawn_area(Rect {
                x: 1010.0,
                y: 505.0,
                ..view
            }),
            a
        );
        assert_eq!(drawn_area(Rect::default()), Rect::default());
    }

    #[test]
    fn only_steps_near_the_view_and_the_selected_ones_are_drawn() {
        let d = grid(1000);
        let area = drawn_area(Rect {
            x: 0.0,
            y: 0.0,
            w: 1000.0,
            h: 600.0,
        });
        let none = BTreeSet::new();
        let drawn = nodes_in(&d, area, &none);
        // s4 is partly in view; s6 is a card beyond its right edge
        assert!(drawn.contains(&"s0".to_string()) && drawn.contains(&"s4".to_string()));
        assert!(!drawn.contains(&"s6".to_string()));
        assert!(!drawn.contains(&"s999".to_string()));
        assert!(drawn.len() < 200, "{} drawn", drawn.len());
        // the selected step is drawn wherever it is, in the graph's order
        let sel = BTreeSet::from(["s999".to_string()]);
        assert_eq!(
            nodes_in(&d, area, &sel).last().map(String::as_str),
            Some("s999")
        );
        // Select all draws what is in view, not the whole graph
        let all: BTreeSet<String> = d.nodes.iter().map(|n| n.id.clone()).collect();
        assert_eq!(nodes_in(&d, area, &all), drawn);
        // nothing before the view is measured
        assert!(nodes_in(&d, drawn_area(Rect::default()), &none).is_empty());
    }

    #[test]
    fn a_connection_is_drawn_when_it_crosses_the_area() {
        let mut d = grid(1000);
        // from the top-left corner to the bottom row: crosses everything
        d.edges.push(Edge::new("s0", "out", "s990"));
        d.edges.push(Edge::new("s5", "out", "gone"));
        let ix = index(&d);
        let area = drawn_area(Rect {
            x: 0.0,
            y: 4000.0,
            w: 1000.0,
            h: 600.0,
        });
        let drawn = edges_in(&d, &ix, area);
        assert!(drawn.contains(&Edge::new("s0", "out", "s990")));
        assert!(
            drawn.contains(&Edge::new("s5", "out", "gone")),
            "a broken edge is always drawn"
        );
        assert!(!drawn.contains(&Edge::new("s0", "out", "s1")));
        assert!(drawn.len() < 300, "{} drawn", drawn.len());
    }
}
