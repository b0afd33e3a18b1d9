//! Adding steps to the graph: copy, paste and duplicate the selection, add
//! a step of a kind (after the selected one, on a connection, or inside a
//! For each's body), lay the graph out, replace it with an import.

use super::edit::{self, Fragment};
use super::geometry::GRID;
use super::state::Canvas;
use crate::domain::WorkflowDef;
use leptos::prelude::*;
use std::collections::BTreeSet;

impl Canvas {
    pub fn copy(self) {
        let ids = self.selection.get_untracked();
        if ids.is_empty() {
            return;
        }
        let f = self.with_shown(|d| edit::copy(d, &ids));
        self.clipboard.set_value(Some((f, 0)));
    }

    /// Pastes what was copied, a little further each time, and selects it.
    pub fn paste(self) {
        let Some((f, times)) = self.clipboard.get_value() else {
            return;
        };
        self.clipboard.set_value(Some((f.clone(), times + 1)));
        let step = 2.0 * GRID * (times + 1) as f64;
        self.insert(&f, step);
    }

    pub fn duplicate(self) {
        let ids = self.selection.get_untracked();
        let f = self.def.with_untracked(|d| edit::copy(d, &ids));
        if !f.nodes.is_empty() {
            self.insert(&f, 2.0 * GRID);
        }
    }

    fn insert(self, f: &Fragment, offset: f64) {
        let mut added = BTreeSet::new();
        self.edit(|d| added = edit::paste(d, f, (offset, offset)));
        if let Some(first) = added.first().cloned() {
            self.selection.set(added);
            super::keys::reveal(first);
        }
    }

    /// Adds a step of `kind`. With one step selected, the new one goes
    /// after it and is connected from its first free port.
    pub fn add(self, kind: &str) {
        let on = self.insert_on.get_untracked();
        self.insert_on.set(None);
        let after = on
            .as_ref()
            .map(|e| e.from.clone())
            .or_else(|| self.single());
        let mut added = None;
        let mut note = None;
        self.edit(|d| {
            let (x, y) = after
                .as_deref()
                .and_then(|a| edit::place_after(d, a))
                .unwrap_or_else(|| edit::place_at_end(d));
            let Some(mut n) = super::palette::new_node(d, kind, x, y) else {
                return;
            };
            // added after a step in a For each body: in that body too
            let beside = on.as_ref().map(|e| e.from.as_str()).or(after.as_deref());
            n.parent = beside
                .and_then(|b| d.node(b))
                .and_then(|b| b.parent.clone());
            let id = n.id.clone();
            let body = matches!(n.kind, crate::domain::NodeKind::ForEach(_))
                .then(|| super::palette::new_body(d, &n));
            d.nodes.push(n);
            if let Some((nodes, edge)) = body {
                d.nodes.extend(nodes);
                d.edges.push(edge);
            }
            note = match (&on, &after) {
                (Some(e), _) => Some(
                    match edit::insert_between(d, std::slice::from_ref(e), &id) {
                        Ok(()) => "Inserted the new step on the connection.".to_string(),
                        Err(why) => format!("Added the new step, not connected: {why}."),
                    },
                ),
                (None, Some(a)) => Some(edit::connect_after(d, a, &id)),
                (None, None) => None,
            };
            added = Some(id);
        });
        self.note.set(note);
        if let Some(id) = added {
            self.select_only(&id);
            super::keys::reveal(id);
        }
    }

    /// Lays the whole graph out left to right.
    pub fn auto_layout(self) {
        self.edit(|d| {
            let places = super::layout::layered(d);
            for n in &mut d.nodes {
                if let Some(p) = places.get(&n.id) {
                    n.position = *p;
                }
            }
        });
    }

    /// Replaces the graph with `new` (an import), undoably.
    pub fn replace(self, new: WorkflowDef) {
        self.selection.set(BTreeSet::new());
        self.edit(|d| *d = new);
    }
}
