//! Canvas geometry: node size, grid, edge curves.

use crate::domain::{Node, Position};

pub const NODE_W: f64 = 180.0;
pub const NODE_H: f64 = 64.0;
pub const GRID: f64 = 20.0;

/// Rounds a coordinate to the grid, never left of or above the origin.
pub fn snap(v: f64) -> f64 {
    ((v / GRID).round() * GRID).max(0.0)
}

/// A node's output ports in drawing order (`error` last, if it has one).
pub fn ports(n: &Node) -> Vec<String> {
    let mut ports = n.ports();
    if n.kind.can_error() {
        ports.push(crate::domain::PORT_ERROR.into());
    }
    ports
}

/// Height of port `index` of `count` along a node's right side.
pub fn port_y(index: usize, count: usize) -> f64 {
    NODE_H * (index as f64 + 1.0) / (count as f64 + 1.0)
}

fn curve(x1: f64, y1: f64, x2: f64, y2: f64) -> String {
    let bend = ((x2 - x1).abs() / 2.0).max(40.0);
    format!(
        "M {x1} {y1} C {} {y1}, {} {y2}, {x2} {y2}",
        x1 + bend,
        x2 - bend
    )
}

/// A curve from port `port` (of `ports`) of `from` to the left side of
/// `to`, and its midpoint (for the label).
pub fn edge_path(from: Position, port: (usize, usize), to: Position) -> (String, (f64, f64)) {
    let (x1, y1) = (from.x + NODE_W, from.y + port_y(port.0, port.1));
    let (x2, y2) = (to.x, to.y + NODE_H / 2.0);
    (curve(x1, y1, x2, y2), ((x1 + x2) / 2.0, (y1 + y2) / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapping_and_curves() {
        assert_eq!(snap(29.0), 20.0);
        assert_eq!(snap(31.0), 40.0);
        assert_eq!(snap(-15.0), 0.0);
        let (p, mid) = edge_path(
            Position { x: 0.0, y: 0.0 },
            (0, 1),
            Position { x: 300.0, y: 100.0 },
        );
        assert_eq!(port_y(0, 2), NODE_H / 3.0);
        assert!(p.starts_with("M 180 32 C"), "{p}");
        assert!(p.ends_with("300 132"), "{p}");
        assert_eq!(mid, (240.0, 82.0));
    }
}
