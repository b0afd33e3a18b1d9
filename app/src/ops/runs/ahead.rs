//! A start prepared ahead of its read. Which version a start runs is read
//! each time (a publish changes it), but the version it resolved to when
//! this process last read it is nearly always the answer again. The engine
//! evaluates a new run's opening for that version while the read that
//! confirms it is made (`Engine::start_new`): the two waits overlap
//! instead of following each other. Nothing is written from a guess: the
//! caller compares it with the read and prepares the run again from the
//! read when they differ.

use super::insert::RunRows;
use super::start::{Via, check_input};
use crate::domain::audit::Actor;
use crate::store::remembered::Remembered;
use crate::store::workflows::{self, Pick, REMEMBERED_VERSIONS};
use serde_json::Value;
use std::sync::LazyLock;

/// The version each (workflow, pick) resolved to when last read here.
static RESOLVED: LazyLock<Remembered<(String, Pick), i64>> =
    LazyLock::new(|| Remembered::new(REMEMBERED_VERSIONS));

/// Notes that `pick` of `workflow_id` was read as `version`, runnable.
pub(super) fn note(workflow_id: &str, pick: Pick, version: i64) {
    RESOLVED.put((workflow_id.to_string(), pick), version);
}

/// The run a start of `pick` would insert if its version is still the one
/// last read here, with that version's remembered graph; None when nothing
/// is remembered, or when that version could not run or would refuse
/// `input` (the start then reads first, and answers as it always did).
pub fn prepare_ahead(
    actor: &Actor,
    workflow_id: &str,
    pick: Pick,
    input: &Value,
    via: Via<'_>,
    now: i64,
) -> Option<RunRows> {
    let version = RESOLVED.get(&(workflow_id.to_string(), pick))?;
    let def = workflows::remembered_definition(workflow_id, version)?;
    let runnable = crate::ops::workflows::problems_of(workflow_id, version, &def).is_empty();
    if !runnable || check_input(&def, input).is_err() {
        return None;
    }
    Some(RunRows::new(
        actor,
        workflow_id,
        version,
        &def,
        input,
        via.parts(),
        now,
    ))
}

impl RunRows {
    /// The same run, whose insert fails on SQLite unless `pick` of its
    /// workflow still names its version when the insert's transaction
    /// runs: a start prepared ahead confirms its version there instead of
    /// reading it first (one message to SQLite's threads fewer). A start
    /// that fails reads the version again to learn whether it changed
    /// (see `Engine::start_new`).
    pub fn confirmed_in_transaction(mut self, pick: Pick) -> RunRows {
        self.confirms = Some(pick);
        self
    }

    /// Leaves this run's confirmation to an earlier run of the same
    /// transaction that confirms the same version (`seen`: those
    /// confirmed so far): one check of it is enough, and each statement
    /// of a batch stays prepared on the writer.
    pub fn confirmed_once(&mut self, seen: &mut Vec<(String, Pick, i64)>) {
        let Some(pick) = self.confirms else {
            return;
        };
        let key = (self.record.workflow_id.clone(), pick, self.record.version);
        match seen.contains(&key) {
            true => self.confirms = None,
            false => seen.push(key),
        }
    }
}
