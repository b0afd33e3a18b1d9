//! Approval steps: on arrival the step parks (no worker held) and an
//! approval item is created in the same transaction; a decision (or the
//! deadline) wakes it, and it ends the way the item was decided.

use super::{Engine, Result, runners::Outcome};
use crate::sandbox::{Job, Request};
use app::domain::approvals::ApprovalItem;
use app::domain::graph::{ApprovalConfig, DeadlineAction, ErrorClass, Node, WorkflowDef};
use app::domain::records::RunRecord;
use app::domain::run::ItemStatus;
use app::domain::transitions::ItemEvent;
use app::store::approvals::{self as items, NewItem};
use serde_json::{Value, json};

/// A parked step with no deadline wakes only when someone decides.
pub const NEVER: i64 = i64::MAX / 2;

/// The parts of an item every kind shares; the caller fills in the rest.
pub(super) async fn base_item(
    conn: &mut app::store::conn::Conn,
    run: &RunRecord,
    node: &Node,
    reason: &'static str,
    now: i64,
) -> NewItem {
    let workflow_name = app::store::workflows::get_any(conn, &run.workflow_id, run.version)
        .await
        .map(|w| w.name)
        .unwrap_or_default();
    NewItem {
        id: app::domain::ids::ItemId::generate(),
        run_id: run.id.clone(),
        node_id: node.id.clone(),
        workflow_id: run.workflow_id.clone(),
        workflow_name,
        node_name: node.name.clone(),
        reason,
        title: String::new(),
        instructions: String::new(),
        roles: vec![],
        users: vec![],
        required: 1,
        allow_self: false,
        // the person, so their tokens count as them
        started_by: app::domain::auth::person_of(&run.started_by).to_string(),
        form: json!([]),
        proposed: Value::Null,
        context: Value::Null,
        deadline_at: None,
        deadline_action: None,
        created_at: now,
    }
}

/// The steps whose output is up for decision at `id`: its predecessors,
/// looking through Branch and Join steps (they route, they produce no data).
fn data_sources<'a>(def: &'a WorkflowDef, id: &str, seen: &mut Vec<&'a str>) -> Vec<&'a str> {
    let mut out = Vec::new();
    for e in def.edges.iter().filter(|e| e.to == id) {
        if seen.contains(&e.from.as_str()) {
            continue;
        }
        seen.push(e.from.as_str());
        match def.node(&e.from).map(|n| &n.kind) {
            Some(app::domain::NodeKind::Branch { .. } | app::domain::NodeKind::Join {}) => {
                out.extend(data_sources(def, &e.from, seen))
            }
            _ => out.push(e.from.as_str()),
        }
    }
    out
}

/// What the step's predecessors produced: the output up for decision.
fn proposed(def: &WorkflowDef, node: &Node, ctx: &Value) -> Value {
    let preds = data_sources(def, &node.id, &mut Vec::new());
    let out = |id: &str| ctx["steps"][id]["output"].clone();
    match preds.as_slice() {
        [] => ctx["input"].clone(),
        [one] => out(one),
        many => Value::Object(many.iter().map(|p| (p.to_string(), out(p))).collect()),
    }
}

/// How a decided item ends the step.
fn decided(def: &WorkflowDef, node: &Node, item: &ApprovalItem) -> Outcome {
    let by = item.decided_by.clone().unwrap_or_default();
    let comment = item.comment.clone().unwrap_or_default();
    let approved = (item.status == ItemStatus::Approved)
        .then(|| item.final_output.clone().unwrap_or(Value::Null));
    ended(def, node, approved, &by, &comment)
}

/// How an Approval step ends: approved with this output, or rejected by
/// `by` (its `rejected` edge if drawn, else a business failure).
pub(super) fn ended(
    def: &WorkflowDef,
    node: &Node,
    approved: Option<Value>,
    by: &str,
    comment: &str,
) -> Outcome {
    if let Some(output) = approved {
        return Outcome::Done {
            output,
            // a person checked it
            confidence: Some(1.0),
            port: app::domain::PORT_OUT.into(),
        };
    }
    let rejected_edge = def
        .edges
        .iter()
        .any(|e| e.from == node.id && e.port == app::domain::PORT_REJECTED);
    if rejected_edge {
        Outcome::Done {
            output: json!({"rejected_by": by, "comment": comment}),
            confidence: None,
            port: app::domain::PORT_REJECTED.into(),
        }
    } else {
        let why = if comment.is_empty() {
            String::new()
        } else {
            format!(": {comment}")
        };
        Outcome::fail(ErrorClass::Business, format!("rejected by {by}{why}"))
    }
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn approval_step(
        &self,
        run: &RunRecord,
        def: &WorkflowDef,
        node: &Node,
        cfg: &ApprovalConfig,
        ctx: &Value,
        cum_in: Option<f64>,
        woken: bool,
        now: i64,
    ) -> Result<Outcome> {
        // A step that arrives afresh (first time, a retry, another attempt
        // of its policy) asks anew; only a wake-up reads its current item.
        let existing = if woken {
            let mut conn = self.db.acquire().await?;
            items::for_step(&mut conn, &run.id, &node.id).await?
        } else {
            None
        };
        let Some(item) = existing else {
            // title and instructions render in the sandbox; a template
            // that fails shows as written
            let texts = [cfg.title.as_str(), cfg.instructions.as_str()];
            let jobs = texts.iter().map(|t| Job::template(t)).collect();
            let rendered = self
                .sandbox
                .run(&Request::over(ctx, jobs))
                .await
                .unwrap_or_default();
            let render = |i: usize| match rendered.get(i) {
                Some(Ok(Value::String(s))) => s.clone(),
                _ => texts[i].to_string(),
            };
            let deadline_at = cfg
                .deadline
                .as_ref()
                .map(|d| app::domain::limits::after(now, d.after_ms));
            let mut context = ctx.clone();
            context["cum_confidence"] = json!(cum_in);
            let base = {
                let mut conn = self.db.acquire().await?;
                // where the values up for decision came from
                let sources: Vec<String> = data_sources(def, &node.id, &mut Vec::new())
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                let lineage =
                    app::store::runs::latest_lineage(&mut conn, &run.id, &sources).await?;
                if !lineage.is_empty() {
                    context["lineage"] = json!(lineage);
                }
                base_item(&mut conn, run, node, "approval", now).await
            };
            let item = NewItem {
                title: render(0),
                instructions: render(1),
                roles: cfg.approvers.roles.clone(),
                users: cfg.approvers.users.clone(),
                required: cfg.required_approvals.max(1) as i64,
                allow_self: cfg.allow_self_approval,
                form: serde_json::to_value(&cfg.form).unwrap_or(Value::Null),
                proposed: proposed(def, node, ctx),
                context,
                deadline_at,
                deadline_action: cfg
                    .deadline
                    .as_ref()
                    .map(|d| serde_json::to_value(&d.action).unwrap_or(Value::Null)),
                ..base
            };
            return Ok(Outcome::Ask {
                until: deadline_at.unwrap_or(NEVER),
                item: Box::new(item),
            });
        };
        if item.status != ItemStatus::Pending {
            return Ok(decided(def, node, &item));
        }
        // pending: woken by its deadline (or early, which changes nothing)
        if item.deadline_at.is_none_or(|d| d > now) {
            return Ok(Outcome::Park {
                until: item.deadline_at.unwrap_or(NEVER),
            });
        }
        self.deadline_passed(run, def, node, &item.id, now).await
    }

    /// The item's deadline passed: escalate, approve or reject it, in one
    /// transaction that first reads it again. A person who decided first
    /// wins (the step ends as they decided); a person deciding after the
    /// deadline's change is refused by the item's state. Exactly one wins.
    async fn deadline_passed(
        &self,
        run: &RunRecord,
        def: &WorkflowDef,
        node: &Node,
        item_id: &app::domain::ids::ItemId,
        now: i64,
    ) -> Result<Outcome> {
        let mut tx = self.db.write().await?;
        let Some(item) = items::get(&mut tx, item_id).await? else {
            return Ok(Outcome::fail(
                ErrorClass::Business,
                "the approval item is gone",
            ));
        };
        if item.status != ItemStatus::Pending {
            return Ok(decided(def, node, &item));
        }
        let action: Option<DeadlineAction> = items::deadline_action(&mut tx, &item.id)
            .await?
            .and_then(|v| serde_json::from_value(v).ok());
        let (event, outcome) = match action {
            Some(DeadlineAction::Escalate { role }) => {
                let took = items::escalate(&mut tx, &item.id, &role).await?;
                debug_assert!(took, "read pending in this transaction");
                (
                    json!({"escalated_to": role}),
                    Outcome::Park { until: NEVER },
                )
            }
            Some(DeadlineAction::Approve) => {
                let comment = "approved automatically at the deadline";
                let output = item.current_output.as_ref().unwrap_or(&item.proposed);
                items::close(
                    &mut tx,
                    &item.id,
                    ItemEvent::Approve,
                    "deadline",
                    Some(output),
                    comment,
                    now,
                )
                .await?;
                let mut done = item.clone();
                done.status = ItemStatus::Approved;
                done.final_output = Some(output.clone());
                done.decided_by = Some("deadline".into());
                (json!({"decision": "approve"}), decided(def, node, &done))
            }
            Some(DeadlineAction::Reject) | None => {
                let comment = "nobody decided before the deadline";
                items::close(
                    &mut tx,
                    &item.id,
                    ItemEvent::Reject,
                    "deadline",
                    None,
                    comment,
                    now,
                )
                .await?;
                let mut done = item.clone();
                done.status = ItemStatus::Rejected;
                done.decided_by = Some("deadline".into());
                done.comment = Some(comment.into());
                (json!({"decision": "reject"}), decided(def, node, &done))
            }
        };
        let mut details = event;
        details["item"] = json!(item.id);
        app::store::audit::append(
            &mut tx,
            &app::domain::audit::NewAuditEvent::run(
                now,
                "engine",
                "approval.deadline",
                &run.id,
                details,
            ),
        )
        .await?;
        tx.commit().await?;
        self.changes.notify("approvals");
        Ok(outcome)
    }
}
