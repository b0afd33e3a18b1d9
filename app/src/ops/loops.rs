//! Bounded loops, applied in the transaction of the step that went back
//! to its loop's entry: the loop's steps wait for their next pass (keeping
//! what they ended with), the entry is ready again, and the audit trail
//! says so; or the passes are used up.

use super::progress::States;
use crate::domain::audit::NewAuditEvent;
use crate::domain::graph::WorkflowDef;
use crate::domain::ids::RunId;
use crate::domain::machine::{Repeat, repeat};
use crate::domain::run::StepStatus;
use crate::domain::transitions::StepEvent;
use crate::store::runs::{self, Activated};
use crate::store::{Result, audit};
use serde_json::json;

/// What a finished step's edge back to its loop's entry did.
pub enum Round {
    /// It took none.
    No,
    /// A new pass: the entry, made ready.
    Again(Vec<Activated>),
    /// The passes are used up; the entry now leaves through `exhausted`.
    Exhausted(String),
    /// ... and nothing is connected there: the run fails for this reason.
    Spent(String),
}

pub async fn go_round(
    conn: &mut crate::store::conn::Conn,
    def: &WorkflowDef,
    run_id: &RunId,
    states: &mut States,
    finished: &str,
    now: i64,
) -> Result<Round> {
    let Some(r) = repeat(def, states, finished) else {
        return Ok(Round::No);
    };
    Ok(match r {
        Repeat::Again {
            entry,
            lap,
            body,
            after,
        } => {
            let cum_in = states
                .get(finished)
                .and_then(|s| s.cum_confidence)
                .unwrap_or(1.0);
            for node in &body {
                let own = if *node == entry { lap } else { 0 };
                runs::repeat_step(conn, run_id, node, Some(own), now).await?;
                // an Approval of the loop asks its people anew
                crate::store::approvals::supersede(conn, run_id, node, now).await?;
                if let Some(s) = states.get_mut(node) {
                    s.status = StepStatus::Pending;
                    s.port = None;
                    s.cum_confidence = None;
                    s.pass += 1;
                    s.lap = own;
                }
            }
            for node in &after {
                runs::repeat_step(conn, run_id, node, None, now).await?;
                if let Some(s) = states.get_mut(node) {
                    s.status = StepStatus::Pending;
                }
            }
            let ready =
                runs::resolve_pending(conn, run_id, &entry, StepEvent::Activate, cum_in, now)
                    .await?;
            if let Some(s) = states.get_mut(&entry) {
                s.status = StepStatus::Ready;
            }
            audit::append(
                conn,
                &NewAuditEvent::run(
                    now,
                    "engine",
                    "loop.repeated",
                    run_id,
                    json!({"entry": entry, "lap": lap, "from": finished, "steps": body}),
                ),
            )
            .await?;
            Round::Again(ready.into_iter().collect())
        }
        Repeat::Exhausted { entry, reopen } => {
            for node in &reopen {
                runs::repeat_step(conn, run_id, node, None, now).await?;
                if let Some(s) = states.get_mut(node) {
                    s.status = StepStatus::Pending;
                }
            }
            runs::take_exhausted(conn, run_id, &entry).await?;
            if let Some(s) = states.get_mut(&entry) {
                s.port = Some(crate::domain::graph::PORT_EXHAUSTED.into());
            }
            audit::append(
                conn,
                &NewAuditEvent::run(
                    now,
                    "engine",
                    "loop.exhausted",
                    run_id,
                    json!({"entry": entry, "from": finished}),
                ),
            )
            .await?;
            Round::Exhausted(entry)
        }
        Repeat::Spent { reason, .. } => Round::Spent(reason),
    })
}
