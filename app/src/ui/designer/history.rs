//! Undo and redo for the designer: whole-definition snapshots (graphs are
//! small next to memory, and snapshots cannot drift from the edits).

use crate::domain::WorkflowDef;

/// At least the 100 steps people expect, with room to spare.
pub const MAX_STEPS: usize = 200;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    past: Vec<WorkflowDef>,
    future: Vec<WorkflowDef>,
}

impl History {
    /// Remembers `before` as the state to return to; a new edit forgets redo.
    pub fn record(&mut self, before: WorkflowDef) {
        if self.past.last() != Some(&before) {
            self.past.push(before);
            if self.past.len() > MAX_STEPS {
                self.past.remove(0);
            }
        }
        self.future.clear();
    }

    pub fn undo(&mut self, current: &mut WorkflowDef) -> bool {
        shift(&mut self.past, &mut self.future, current)
    }

    pub fn redo(&mut self, current: &mut WorkflowDef) -> bool {
        shift(&mut self.future, &mut self.past, current)
    }
}

/// Moves `current` onto `to` and the top of `from` into `current`.
fn shift(
    from: &mut Vec<WorkflowDef>,
    to: &mut Vec<WorkflowDef>,
    current: &mut WorkflowDef,
) -> bool {
    match from.pop() {
        Some(state) => {
            to.push(std::mem::replace(current, state));
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(n: &str) -> WorkflowDef {
        let mut d = WorkflowDef::minimal();
        d.nodes[1].name = n.into();
        d
    }

    #[test]
    fn undo_redo_and_a_new_edit_clears_redo() {
        let mut h = History::default();
        let mut cur = named("a");
        h.record(cur.clone());
        cur = named("b");
        h.record(cur.clone());
        cur = named("c");
        assert!(h.undo(&mut cur));
        assert_eq!(cur, named("b"));
        assert!(h.undo(&mut cur));
        assert_eq!(cur, named("a"));
        assert!(!h.undo(&mut cur));
        assert!(h.redo(&mut cur));
        assert_eq!(cur, named("b"));
        h.record(cur.clone());
        cur = named("d");
        assert!(!h.redo(&mut cur), "a new edit forgets what could be redone");
    }

    #[test]
    fn keeps_at_least_a_hundred_steps() {
        let mut h = History::default();
        let mut cur = named("0");
        for i in 1..=150 {
            h.record(cur.clone());
            cur = named(&i.to_string());
        }
        let mut undone = 0;
        while h.undo(&mut cur) {
            undone += 1;
        }
        assert_eq!(undone, 150);
        assert_eq!(cur, named("0"));
    }
}
