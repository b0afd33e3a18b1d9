//! Which nominal times are due, and keeping the history bounded.

use super::{Engine, Result};
use app::domain::triggers::plan::Due;
use app::domain::triggers::schedule::{Schedule, jitter};
use app::domain::triggers::{ScheduleSpec, Trigger};
use app::store::triggers as store;
use std::collections::VecDeque;

/// Due fires handled one by one; older ones are counted in one event.
const MAX_DUE: usize = 100;
/// Nominal times looked at before giving up on catching up (a schedule
/// every second and a week of downtime).
const MAX_SCAN: usize = 1_000_000;

impl Engine {
    /// Keeps each trigger's history bounded: its newest `KEEP_EVENTS`
    /// events, and every delivery key young enough to still matter (the
    /// longest retention a webhook may have).
    pub async fn prune_trigger_events(&self) -> Result<()> {
        const KEEP_EVENTS: i64 = 1_000;
        let since = self.clock.now() - app::domain::triggers::MAX_RETENTION_MS;
        let ids = {
            let mut conn = self.db.acquire().await?;
            store::all_ids(&mut conn).await?
        };
        for id in ids {
            let mut tx = self.db.write().await?;
            store::prune(&mut tx, &id, KEEP_EVENTS, since).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

/// The fires due at `now` from `first` on (the last `MAX_DUE`), how many
/// older ones were dropped (count, first, last nominal), and the next
/// nominal time not yet due.
#[allow(clippy::type_complexity)]
pub(super) fn due_fires(
    sched: &Schedule,
    t: &Trigger,
    spec: &ScheduleSpec,
    first: i64,
    now: i64,
) -> (Vec<Due>, Option<(usize, i64, i64)>, Option<i64>) {
    let mut due: VecDeque<Due> = VecDeque::new();
    let mut dropped: Option<(usize, i64, i64)> = None;
    let mut n = Some(first);
    let mut scanned = 0;
    while let Some(nominal) = n.filter(|n| *n <= now) {
        if scanned == MAX_SCAN {
            // too far behind to list: what is left counts as one gap
            let resume = sched.next_after(now);
            dropped = Some(match dropped {
                None => (0, nominal, now),
                Some((c, f, _)) => (c, f, now),
            });
            return (due.into(), dropped, resume);
        }
        scanned += 1;
        let next = sched.next_after(nominal);
        let fire_at = nominal + jitter(&t.id, nominal, next, spec.jitter_ms);
        if fire_at > now {
            break;
        }
        due.push_back(Due { nominal, fire_at });
        if due.len() > MAX_DUE
            && let Some(old) = due.pop_front()
        {
            dropped = Some(match dropped {
                None => (1, old.nominal, old.nominal),
                Some((c, f, _)) => (c + 1, f, old.nominal),
            });
        }
        n = next;
    }
    (due.into(), dropped, n)
}
