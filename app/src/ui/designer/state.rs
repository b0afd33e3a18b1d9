//! The designer's shared state and the operations on it. Every change of
//! the graph goes through [`Canvas::edit`], so it can be undone and is
//! refused while an earlier version is open read-only.

use super::edit::{self, Fragment};
use super::geometry::GRID;
use super::history::History;
use crate::domain::diff::VersionDiff;
use crate::domain::{Node, Problem, WorkflowDef};
use leptos::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// A move of the selection: the pointer's last position and the unsnapped
/// distance so far, in canvas units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Drag {
    pub last_x: f64,
    pub last_y: f64,
    pub dx: f64,
    pub dy: f64,
}

/// A connection being drawn from a port to the pointer (canvas coordinates).
#[derive(Clone, Debug, PartialEq)]
pub struct Connect {
    pub from: String,
    pub port: String,
    pub x0: f64,
    pub y0: f64,
    pub x: f64,
    pub y: f64,
    pub last_x: f64,
    pub last_y: f64,
}

/// An earlier version open read-only, with what changed since.
#[derive(Clone, Debug, PartialEq)]
pub struct Viewing {
    pub version: i64,
    pub def: WorkflowDef,
    pub diff: VersionDiff,
}

/// Handles to the designer's signals, cheap to copy into every closure.
#[derive(Clone, Copy)]
pub struct Canvas {
    /// The working copy (what Save stores).
    pub def: RwSignal<WorkflowDef>,
    pub viewing: RwSignal<Option<Viewing>>,
    /// Node id -> index in the shown definition.
    pub index: Memo<HashMap<String, usize>>,
    pub history: StoredValue<History>,
    pub problems: Memo<Vec<Problem>>,
    pub selection: RwSignal<BTreeSet<String>>,
    pub drag: RwSignal<Option<Drag>>,
    /// The drag distance snapped to the grid: changes only at grid steps,
    /// and only the drag layer (drag_layer.rs) listens to it.
    pub delta: Memo<Option<(f64, f64)>>,
    pub connect: RwSignal<Option<Connect>>,
    /// The steps inside a selected For each's frame (not selected
    /// themselves): they move with it.
    pub carried: Memo<BTreeSet<String>>,
    pub zoom: RwSignal<f64>,
    /// The designer element, focused when the canvas is clicked so the
    /// keyboard shortcuts apply.
    pub root: NodeRef<leptos::html::Section>,
    pub(super) clipboard: StoredValue<Option<(Fragment, usize)>>,
    /// The key of the last merging edit (see [`Canvas::edit_merging`]).
    merging: StoredValue<Option<String>>,
    /// The role may not change workflows: everything is read-only.
    locked: bool,
    /// On a run's page: each step's status and attempts, drawn on its node.
    pub overlay: RwSignal<HashMap<String, (String, i64)>>,
    /// The inspector shows the workflow's own settings (when no step is
    /// selected).
    pub settings_open: RwSignal<bool>,
    /// The next step added goes on this connection (its "+" was pressed).
    pub insert_on: RwSignal<Option<crate::domain::Edge>>,
    /// What the last addition did, said to the person ("Added … between …").
    pub note: RwSignal<Option<String>>,
    /// The workflow being designed (None on a run's page).
    pub workflow_id: RwSignal<Option<String>>,
}

fn snap_delta(v: f64) -> f64 {
    (v / GRID).round() * GRID
}

impl Canvas {
    /// `problems` are the definition's, as the server found them; they are
    /// worked out again only once the graph changes.
    pub fn new(def: WorkflowDef, problems: Vec<Problem>, editable: bool) -> Self {
        let def = RwSignal::new(def);
        let viewing = RwSignal::new(None::<Viewing>);
        let shown = move |f: &mut dyn FnMut(&WorkflowDef)| {
            if viewing.with(Option::is_some) {
                viewing.with(|v| f(&v.as_ref().expect("checked").def))
            } else {
                def.with(|d| f(d))
            }
        };
        let index = Memo::new(move |_| {
            let mut m = HashMap::new();
            shown(&mut |d| {
                m = d
                    .nodes
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.id.clone(), i))
                    .collect()
            });
            m
        });
        // the last definition checked and its problems: the server's at
        // first; a move of steps keeps them (see `validate::moved_only`)
        let checked = StoredValue::new(Some((def.get_untracked(), problems)));
        let problems = Memo::new(move |_| {
            let mut p = Vec::new();
            shown(&mut |d| {
                let same = checked.with_value(|c| {
                    c.as_ref()
                        .filter(|(before, _)| crate::domain::validate::moved_only(before, d))
                        .map(|(_, p)| p.clone())
                });
                p = same.unwrap_or_else(|| crate::domain::validate(d));
                checked.set_value(Some((d.clone(), p.clone())));
            });
            p
        });
        let drag = RwSignal::new(None::<Drag>);
        let delta = Memo::new(move |_| {
            drag.with(|d| d.map(|d| (snap_delta(d.dx), snap_delta(d.dy))))
                .filter(|d| *d != (0.0, 0.0))
        });
        let selection = RwSignal::new(BTreeSet::<String>::new());
        let carried = Memo::new(move |_| {
            let mut out = BTreeSet::new();
            selection.with(|sel| {
                shown(&mut |d| {
                    for id in sel {
                        out.extend(
                            d.inside(id)
                                .into_iter()
                                .map(|n| n.id.clone())
                                .filter(|n| !sel.contains(n)),
                        );
                    }
                })
            });
            out
        });
        Canvas {
            def,
            viewing,
            index,
            history: StoredValue::new(History::default()),
            problems,
            selection,
            carried,
            drag,
            delta,
            connect: RwSignal::new(None),
            zoom: RwSignal::new(1.0),
            root: NodeRef::new(),
            clipboard: StoredValue::new(None),
            merging: StoredValue::new(None),
            locked: !editable,
            overlay: RwSignal::new(HashMap::new()),
            settings_open: RwSignal::new(false),
            insert_on: RwSignal::new(None),
            note: RwSignal::new(None),
            workflow_id: RwSignal::new(None),
        }
    }

    /// Moves the keyboard focus to the designer (out of any form field,
    /// which commits what was typed there).
    pub fn focus(self) {
        if let Some(el) = self.root.get_untracked() {
            let _ = el.focus();
        }
    }

    /// Shows the workflow's settings in the inspector (no step selected).
    pub fn open_settings(self) {
        self.selection.set(BTreeSet::new());
        self.settings_open.set(true);
    }

    /// Whether an earlier version is open (nothing can be edited).
    pub fn read_only(self) -> bool {
        self.locked || self.viewing.with(Option::is_some)
    }

    /// Reads the definition on the canvas: the working copy, or the
    /// earlier version being viewed.
    pub fn with_shown<R>(self, f: impl FnOnce(&WorkflowDef) -> R) -> R {
        if self.viewing.with(Option::is_some) {
            self.viewing.with(|v| f(&v.as_ref().expect("checked").def))
        } else {
            self.def.with(f)
        }
    }

    /// The node `id` as shown, updated when (and only when) it changes.
    pub fn node(self, id: String) -> Memo<Option<Node>> {
        Memo::new(move |_| {
            let i = self.index.with(|ix| ix.get(&id).copied())?;
            self.with_shown(|d| d.nodes.get(i).filter(|n| n.id == id).cloned())
        })
    }

    /// Applies an edit that can be undone (ignored while read-only).
    pub fn edit(self, f: impl FnOnce(&mut WorkflowDef)) {
        self.apply(None, f);
    }

    /// An edit that joins the previous one when it has the same `key`
    /// and nothing else happened in between: typing into a step's fields
    /// is undone as one step, not one key press at a time.
    pub fn edit_merging(self, key: &str, f: impl FnOnce(&mut WorkflowDef)) {
        self.apply(Some(key), f);
    }

    fn apply(self, key: Option<&str>, f: impl FnOnce(&mut WorkflowDef)) {
        if self.locked || self.viewing.with_untracked(Option::is_some) {
            return;
        }
        let before = self.def.get_untracked();
        let mut after = before.clone();
        f(&mut after);
        if after != before {
            let joins = key.is_some() && self.merging.with_value(|m| m.as_deref() == key);
            if !joins {
                self.history.update_value(|h| h.record(before));
            }
            self.merging.set_value(key.map(String::from));
            self.def.set(after);
        }
    }

    /// Undoes (`back`) or redoes the last edit.
    pub fn travel(self, back: bool) {
        if self.locked || self.viewing.with_untracked(Option::is_some) {
            return;
        }
        let mut cur = self.def.get_untracked();
        let moved = self
            .history
            .try_update_value(|h| {
                if back {
                    h.undo(&mut cur)
                } else {
                    h.redo(&mut cur)
                }
            })
            .unwrap_or(false);
        if moved {
            self.merging.set_value(None);
            let ids: BTreeSet<String> = cur.nodes.iter().map(|n| n.id.clone()).collect();
            self.selection.update(|s| s.retain(|id| ids.contains(id)));
            self.def.set(cur);
        }
    }

    pub fn select_only(self, id: &str) {
        self.merging.set_value(None);
        self.selection.set(BTreeSet::from([id.to_string()]));
    }

    pub fn toggle(self, id: &str) {
        self.selection.update(|s| {
            if !s.remove(id) {
                s.insert(id.to_string());
            }
        });
    }

    pub fn select_all(self) {
        let all = self.with_shown(|d| d.nodes.iter().map(|n| n.id.clone()).collect());
        self.selection.set(all);
    }

    /// The one selected node, if exactly one is.
    pub fn single(self) -> Option<String> {
        self.selection
            .with(|s| (s.len() == 1).then(|| s.iter().next().cloned()).flatten())
    }

    pub fn delete_selection(self) {
        let ids = self.selection.get_untracked();
        if ids.is_empty() || self.read_only() {
            return;
        }
        self.edit(|d| edit::remove(d, &ids));
        self.selection.set(BTreeSet::new());
    }

    /// Ends a move: the selection lands where it was shown.
    pub fn finish_drag(self) {
        let delta = self.delta.get_untracked();
        self.drag.set(None);
        if let Some(delta) = delta {
            let ids = self.moving();
            self.edit(|d| {
                edit::move_by(d, &ids, delta);
                super::frames::reparent(d, &ids);
            });
        }
    }

    /// What a move takes along: the selection and the steps in the frames
    /// of the selected For each steps.
    pub fn moving(self) -> BTreeSet<String> {
        let mut ids = self.selection.get_untracked();
        ids.extend(self.carried.get_untracked());
        ids
    }

    pub fn nudge(self, dx: f64, dy: f64) {
        let ids = self.moving();
        self.edit(|d| edit::move_by(d, &ids, (dx, dy)));
    }
}
