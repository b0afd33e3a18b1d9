//! For each frames on the canvas: the box around a For each card and every
//! step inside its body, and which frame a moved step lands in. Pure, so
//! the rules are tested without a browser.

use super::geometry::{NODE_H, NODE_W};
use crate::domain::{NodeKind, Position, WorkflowDef};
use std::collections::BTreeSet;

/// Space between a frame's border and the steps in it.
pub const FRAME_PAD: f64 = 24.0;
/// The frame's title strip above its steps.
pub const FRAME_HEAD: f64 = 22.0;

#[derive(Clone, Debug, PartialEq)]
pub struct FrameBox {
    pub id: String,
    pub name: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// 0 for a frame on the canvas, 1 inside another, ...
    pub depth: usize,
}

impl FrameBox {
    fn holds(&self, x: f64, y: f64) -> bool {
        x >= self.x && x <= self.x + self.w && y >= self.y && y <= self.y + self.h
    }
}

/// Every For each's frame, outer frames first (so inner ones draw on top).
pub fn frames(def: &WorkflowDef) -> Vec<FrameBox> {
    let mut out: Vec<FrameBox> = def
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::ForEach(_)))
        .map(|f| {
            let inside = def.inside(&f.id);
            let points = std::iter::once(f.position).chain(inside.iter().map(|n| n.position));
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for p in points {
                x0 = x0.min(p.x);
                y0 = y0.min(p.y);
                x1 = x1.max(p.x + NODE_W);
                y1 = y1.max(p.y + NODE_H);
            }
            FrameBox {
                id: f.id.clone(),
                name: f.name.clone(),
                x: x0 - FRAME_PAD,
                y: y0 - FRAME_PAD - FRAME_HEAD,
                w: x1 - x0 + 2.0 * FRAME_PAD,
                h: y1 - y0 + 2.0 * FRAME_PAD + FRAME_HEAD,
                depth: def.nesting(&f.id).unwrap_or(0),
            }
        })
        .collect();
    out.sort_by_key(|f| f.depth);
    out
}

/// After the steps `moved` were moved, the frame each one now sits in:
/// the innermost frame (drawn without the moved steps) that holds its
/// centre, never a frame that moved along or lies inside one that did.
/// A step whose frame moved with it stays in that frame. Returns the
/// steps whose frame changed.
pub fn reparent(def: &mut WorkflowDef, moved: &BTreeSet<String>) -> Vec<String> {
    let mut still = def.clone();
    still.nodes.retain(|n| !moved.contains(&n.id));
    let mut out_of_reach: BTreeSet<String> = moved.clone();
    for id in moved {
        out_of_reach.extend(def.inside(id).iter().map(|n| n.id.clone()));
    }
    let boxes: Vec<FrameBox> = frames(&still)
        .into_iter()
        .filter(|f| !out_of_reach.contains(&f.id))
        .collect();
    let mut changed = Vec::new();
    for n in def.nodes.iter_mut().filter(|n| moved.contains(&n.id)) {
        if n.parent.as_ref().is_some_and(|p| moved.contains(p)) {
            continue;
        }
        let Position { x, y } = n.position;
        let (cx, cy) = (x + NODE_W / 2.0, y + NODE_H / 2.0);
        let parent = boxes
            .iter()
            .filter(|f| f.holds(cx, cy))
            .max_by_key(|f| f.depth)
            .map(|f| f.id.clone());
        if parent != n.parent {
            n.parent = parent;
            changed.push(n.id.clone());
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::example::line_items;

    #[test]
    fn a_frame_surrounds_its_card_and_body() {
        let d = line_items();
        let f = &frames(&d)[0];
        assert_eq!(f.id, "each_line");
        // the card at (260, 60), the body from x 290 to 650 + width, y 140
        assert_eq!(f.x, 260.0 - FRAME_PAD);
        assert_eq!(f.y, 60.0 - FRAME_PAD - FRAME_HEAD);
        assert_eq!(f.x + f.w, 650.0 + NODE_W + FRAME_PAD);
        assert_eq!(f.y + f.h, 140.0 + NODE_H + FRAME_PAD);
    }

    #[test]
    fn a_step_dropped_in_a_frame_joins_its_body_and_one_dragged_out_leaves() {
        let mut d = line_items();
        // the End moved onto the body
        d.nodes[5].position = Position { x: 470.0, y: 150.0 };
        let moved = BTreeSet::from(["end".to_string()]);
        assert_eq!(reparent(&mut d, &moved), ["end"]);
        assert_eq!(d.node("end").unwrap().parent.as_deref(), Some("each_line"));
        // and out again, far away
        d.nodes[5].position = Position {
            x: 1200.0,
            y: 600.0,
        };
        reparent(&mut d, &moved);
        assert_eq!(d.node("end").unwrap().parent, None);
        // a step moved only a little inside its frame stays in it
        d.nodes[3].position.x += 20.0;
        assert!(reparent(&mut d, &BTreeSet::from(["price".to_string()])).is_empty());
    }

    #[test]
    fn a_frame_moved_with_its_body_keeps_it_and_never_lands_in_itself() {
        let mut d = line_items();
        let mut moved: BTreeSet<String> = ["each_line", "line", "price", "priced"]
            .map(String::from)
            .into();
        for n in d.nodes.iter_mut().filter(|n| moved.contains(&n.id)) {
            n.position.x += 40.0;
        }
        assert!(reparent(&mut d, &moved).is_empty());
        assert_eq!(
            d.node("price").unwrap().parent.as_deref(),
            Some("each_line")
        );
        // the For each alone moved onto its own body: it stays on the canvas
        moved = BTreeSet::from(["each_line".to_string()]);
        d.nodes[1].position = d.node("price").unwrap().position;
        reparent(&mut d, &moved);
        assert_eq!(d.node("each_line").unwrap().parent, None);
    }

    #[test]
    fn a_step_added_after_a_for_each_lands_right_of_its_frame() {
        let d = line_items();
        let (x, _) = super::super::edit::place_after(&d, "each_line").unwrap();
        let f = &frames(&d)[0];
        assert!(
            x > f.x + f.w,
            "{x} is inside the frame ending at {}",
            f.x + f.w
        );
    }
}
