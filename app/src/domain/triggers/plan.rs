//! What a schedule does with the fires that are due: pure decisions, so
//! every policy is tested without a clock, a database or a server.
//!
//! The scheduler lists the nominal times due now (with their jittered fire
//! times), asks [`catch_up`] which of them still run, and for each that
//! does asks [`on_fire`] what to do given the runs it started earlier.

use super::{CatchUp, Overlap};
use crate::domain::run::RunStatus;

/// A fire this late (after its fire time) was missed, not merely slow: the
/// server was not running, or not scheduling, when it was due.
pub const LATE_MS: i64 = 60_000;

/// One due nominal time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub nominal: i64,
    /// The nominal time plus its jitter.
    pub fire_at: i64,
}

/// What becomes of a due fire under the catch-up policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Catch {
    /// Fire it now.
    Fire,
    /// A late fire run under catch-up "all": one after another, never
    /// all at once (unless the overlap policy allows all).
    FireInTurn,
    /// Record it as missed, with why.
    Missed(String),
}

/// Decides, for `due` (in nominal order), which run. Fires on time always
/// run; late ones follow the policy.
pub fn catch_up(policy: CatchUp, due: &[Due], now: i64) -> Vec<Catch> {
    let late = |d: &Due| now.saturating_sub(d.fire_at) > LATE_MS;
    let last_late = due.iter().rposition(late);
    let latest_on_time = due.last().is_some_and(|d| !late(d));
    due.iter()
        .enumerate()
        .map(|(i, d)| {
            if !late(d) {
                return Catch::Fire;
            }
            match policy {
                CatchUp::None => Catch::Missed(
                    "the server was not running when it was due (catch-up: none)".into(),
                ),
                CatchUp::Latest if Some(i) == last_late && !latest_on_time => Catch::Fire,
                CatchUp::Latest => Catch::Missed(
                    "a later fire ran in its place when the server came back (catch-up: latest only)"
                        .into(),
                ),
                CatchUp::All { window_ms } if now.saturating_sub(d.nominal) <= window_ms => {
                    Catch::FireInTurn
                }
                CatchUp::All { .. } => Catch::Missed(
                    "it was older than the catch-up window when the server came back".into(),
                ),
            }
        })
        .collect()
}

/// What the trigger's earlier runs look like when a fire is due.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Busy {
    /// Runs it started that are still going.
    pub running: usize,
    /// Fires waiting for them to end.
    pub queued: usize,
}

/// What a fire does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Start,
    /// Wait until the running ones end (kept as a queued fire).
    Queue,
    /// Record as skipped, with why.
    Skip(String),
    /// Cancel the running runs, then start.
    CancelOthersThenStart,
}

/// The overlap decision for one fire; `busy` is updated as if the action
/// was carried out, so a list of fires is decided by folding over it.
pub fn on_fire(policy: Overlap, catch: &Catch, busy: &mut Busy) -> Action {
    let idle = busy.running == 0 && busy.queued == 0;
    let action = if policy == Overlap::AllowAll || idle {
        Action::Start
    } else if *catch == Catch::FireInTurn || busy.running == 0 {
        // catching up, or waiting behind earlier queued fires: keep order
        Action::Queue
    } else {
        match policy {
            Overlap::Skip => Action::Skip(
                "a run this schedule started earlier was still going (overlap: skip)".into(),
            ),
            Overlap::BufferOne if busy.queued == 0 => Action::Queue,
            Overlap::BufferOne => Action::Skip(
                "a run was still going and another fire was already waiting (overlap: buffer one)"
                    .into(),
            ),
            Overlap::CancelOther => Action::CancelOthersThenStart,
            Overlap::AllowAll => Action::Start,
        }
    };
    match action {
        Action::Start => busy.running += 1,
        Action::Queue => busy.queued += 1,
        Action::CancelOthersThenStart => busy.running = 1,
        Action::Skip(_) => {}
    }
    action
}

/// Whether a schedule pauses itself: the `limit` most recent ended runs it
/// started (newest first in `recent`) all failed.
pub fn should_pause(limit: Option<u32>, recent: &[RunStatus]) -> bool {
    let Some(limit) = limit else { return false };
    let limit = limit as usize;
    limit > 0 && recent.len() >= limit && recent[..limit].iter().all(|s| *s == RunStatus::Failed)
}
