//! A new run's rows: the run, its steps (Start ready) and its audit event,
//! made before the write gate is taken and sent in one batch.

use super::start::Origin;
use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::graph::{NodeKind, WorkflowDef};
use crate::domain::ids::RunId;
use crate::domain::records::{RunRecord, StepRecord};
use crate::domain::run::{RunStatus, StepStatus};
use crate::store::conn::{Batch, Conn, Query};
use crate::store::{audit, runs};
use serde_json::{Value, json};

/// A run about to be inserted: its statements, built ahead, and its
/// audit event.
#[derive(Clone)]
pub struct RunRows {
    pub id: RunId,
    pub event: NewAuditEvent,
    /// The run's insert.
    inserts: Vec<Query<'static>>,
    /// Its steps' (the scope's: see [`RunRows::new`]), unless whoever
    /// inserts the run writes them ([`RunRows::leave_steps`]).
    step_inserts: Vec<Query<'static>>,
    /// The version pick its transaction confirms first (see
    /// [`RunRows::confirmed_in_transaction`]).
    pub(super) confirms: Option<crate::store::workflows::Pick>,
    /// The run as it will read once inserted.
    pub record: RunRecord,
    /// Its steps as they will read once inserted, in the order inserted.
    pub steps: Vec<StepRecord>,
}

impl RunRows {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        actor: &Actor,
        workflow_id: &str,
        version: i64,
        def: &WorkflowDef,
        input: &Value,
        from: Origin<'_>,
        now: i64,
    ) -> RunRows {
        let id = RunId::generate();
        // a run executes one scope: an item run its For each's body, any
        // other run the workflow's own steps
        let def = &def.scope(from.item.and(from.parent.map(|p| p.1)));
        let deadline_at = def
            .settings
            .run_timeout_ms
            .map(|ms| crate::domain::limits::after(now, ms));
        let run = runs::NewRun {
            id: &id,
            workflow_id,
            version,
            input,
            started_by: &actor.0,
            now,
            deadline_at,
            rerun_of: from.rerun_of,
            origin: from.origin,
            trigger_id: from.trigger_id,
            parent: from.parent,
            item: from.item,
            chaos: from.chaos,
            idempotency_key: from.idempotency_key,
        };
        let steps: Vec<(&str, StepStatus)> = def
            .nodes
            .iter()
            .map(|node| {
                let status = if matches!(node.kind, NodeKind::Start { .. }) {
                    StepStatus::Ready
                } else {
                    StepStatus::Pending
                };
                (node.id.as_str(), status)
            })
            .collect();
        let inserts = vec![runs::insert_run_query(&run).owned()];
        let step_inserts = runs::insert_steps_queries(&id, &steps, now)
            .map(Query::owned)
            .collect();
        let mut details =
            json!({"workflow_id": workflow_id, "version": version, "rerun_of": from.rerun_of});
        if let Some(t) = from.trigger_id {
            details["trigger_id"] = json!(t);
        }
        if let Some((run, node)) = from.parent {
            details["parent_run_id"] = json!(run);
            details["parent_node_id"] = json!(node);
        }
        if let Some(i) = from.item {
            details["item"] = json!(i.path);
        }
        if crate::domain::records::is_test_version(version) {
            details["test"] = json!(true);
        }
        if let Some(c) = from.chaos {
            details["chaos"] = json!(c.summary());
        }
        let event = NewAuditEvent::run(now, &actor.0, "run.started", &id, details);
        let steps = steps
            .iter()
            .map(|(node, status)| as_inserted(node, *status, now))
            .collect();
        let record = RunRecord {
            id: id.clone(),
            workflow_id: workflow_id.to_string(),
            version,
            status: RunStatus::Running,
            input: input.clone(),
            output: None,
            error: None,
            confidence: None,
            started_by: actor.0.clone(),
            created_at: now,
            finished_at: None,
            deadline_at,
            rerun_of: from.rerun_of.map(RunId::from_stored),
            origin: from.origin,
            trigger_id: from.trigger_id.map(str::to_string),
            parent_run_id: from.parent.map(|p| p.0.to_string()),
            parent_node_id: from.parent.map(|p| p.1.to_string()),
            item: from.item.cloned(),
            chaos: from.chaos.cloned(),
        };
        RunRows {
            id,
            event,
            inserts,
            step_inserts,
            confirms: None,
            record,
            steps,
        }
    }

    /// The run's statements, taken (they go once): its confirmation
    /// first, when it has one, then its inserts.
    fn take_inserts(&mut self) -> Vec<Query<'static>> {
        let mut out = Vec::with_capacity(self.inserts.len() + 1);
        if let Some(pick) = self.confirms.take() {
            let r = &self.record;
            out.push(crate::store::workflows::still_names(
                &r.workflow_id,
                pick,
                r.version,
            ));
        }
        out.append(&mut self.inserts);
        out.append(&mut self.step_inserts);
        out
    }

    /// Leaves its steps' rows out of its inserts: the caller writes them
    /// itself, as they stand when its transaction commits
    /// (`StepWrites::inserting`).
    pub fn leave_steps(&mut self) {
        self.step_inserts.clear();
    }

    /// Queues the run, its steps and (when this writer knows the chain's
    /// head) its audit event in `b`; `audit::settle` appends the event
    /// once the batch ran. Queued once: the inserts go with the first.
    pub fn queue<'b>(&'b mut self, tx: &mut Conn, b: &mut Batch<'b>) -> Option<audit::Queued> {
        if tx.backend() == crate::store::conn::Backend::Postgres {
            // before the run's number is read (see runs::insert_run_query)
            b.push(audit::lock_query());
        }
        for q in self.take_inserts() {
            b.push(q);
        }
        audit::queue(tx, b, &self.event)
    }
}

/// A step as a new run's insert leaves it: `status`, due from
/// `not_before`, never attempted.
fn as_inserted(node_id: &str, status: StepStatus, not_before: i64) -> StepRecord {
    StepRecord {
        node_id: node_id.to_string(),
        status,
        attempt: 0,
        not_before,
        port: None,
        output: None,
        error_class: None,
        error: None,
        confidence: None,
        cum_confidence: None,
        started_at: None,
        finished_at: None,
        pass: 0,
        iterations: vec![],
    }
}

/// The run, its steps (Start ready) and its audit event, in `tx` (which
/// the caller commits).
pub async fn insert(tx: &mut Conn, mut rows: RunRows) -> crate::store::Result<RunId> {
    let mut b = Batch::new();
    let queued = rows.queue(tx, &mut b);
    let done = b.run(tx).await?;
    audit::settle(tx, &done, queued, &rows.event).await?;
    Ok(rows.id)
}

/// As [`insert`], where `tx` is a SQLite write transaction that has sent
/// nothing yet and keeps its audit events for its end
/// (`WriteGate::defer_audit`): the inserts go with its `BEGIN`, in the
/// message of its first statements (`WriteGate::send_first`), and the
/// event is kept with its others. Elsewhere, as [`insert`].
pub async fn insert_first(tx: &mut Conn, mut rows: RunRows) -> crate::store::Result<RunId> {
    match tx.gate() {
        Some(g) if g.keeps_audit() && g.has_sent_nothing() => {
            g.send_first(rows.take_inserts());
            audit::append(tx, &rows.event).await?;
            Ok(rows.id)
        }
        _ => insert(tx, rows).await,
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::audit::Actor;
    use crate::domain::graph::WorkflowDef;
    use crate::ops::runs::Via;
    use serde_json::json;

    /// On SQLite the event goes in the start's one batch, with its
    /// `COMMIT`; on PostgreSQL it is appended after the batch (a slip made
    /// the second lose it once the batch committed).
    #[tokio::test]
    async fn a_started_run_has_its_run_started_event_on_either_backend() {
        let (db, _dir) = crate::store::test_db().await;
        let mut conn = db.acquire().await.unwrap();
        crate::store::workflows::insert(&mut conn, "wf_1", "W", &WorkflowDef::minimal(), 0, "a", 1)
            .await
            .unwrap();
        let actor = Actor("t".into());
        let mut started = vec![];
        for at in [1_000, 2_000] {
            let run = crate::ops::runs::start(&db, &actor, "wf_1", None, &json!({}), Via::Api, at)
                .await
                .unwrap();
            started.push(run.to_string());
        }
        let logged: Vec<String> = crate::store::conn::query_scalar(
            "SELECT run_id FROM audit_events WHERE action = 'run.started' ORDER BY seq",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(logged, started);
        let report = crate::store::audit::verify(&mut conn, None).await.unwrap();
        assert_eq!(report.broken_at, None);
    }
}
