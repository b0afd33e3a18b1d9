//! Confidence gates: a step whose result comes with too little confidence
//! waits for a person (a `confidence` item) instead of passing it on, and
//! ends as that person decided.

use super::approval::{NEVER, base_item};
use super::{Engine, Result, runners::Outcome};
use app::domain::graph::{ErrorClass, WorkflowDef};
use app::domain::run::ItemStatus;
use app::store::approvals::{self as items, NewItem};
use serde_json::{Value, json};

impl Engine {
    /// A step whose result comes with too little confidence waits for a
    /// person instead of passing it on: its result becomes the proposal of
    /// a `confidence` item (None: the result may go on).
    pub(super) async fn confidence_gate(
        &self,
        tx: &mut app::store::conn::Conn,
        c: &app::store::runs::Claimed,
        def: &WorkflowDef,
        ctx: Option<&Value>,
        outcome: &Outcome,
        now: i64,
    ) -> Result<Option<Outcome>> {
        let Outcome::Done {
            output,
            confidence,
            port,
        } = outcome
        else {
            return Ok(None);
        };
        if app::store::runs::compensated_node(&c.node_id).is_some() {
            return Ok(None);
        }
        let Some(node) = def.node(&c.node_id) else {
            return Ok(None);
        };
        if matches!(node.kind, app::domain::NodeKind::Approval(_)) {
            return Ok(None);
        }
        // a classify step that took its `uncertain` port already handed
        // the doubt to the path drawn for it
        if matches!(node.kind, app::domain::NodeKind::Llm(_)) && port == app::domain::PORT_UNCERTAIN
        {
            return Ok(None);
        }
        let Some(why) = app::domain::machine::gate(
            *confidence,
            c.cum_in,
            node.confidence_threshold,
            def.settings.confidence_threshold,
        ) else {
            return Ok(None);
        };
        let run = app::store::runs::get_run(&mut *tx, &c.run_id).await?;
        let base = base_item(&mut *tx, &run, node, "confidence", now).await;
        let mut context = ctx.cloned().unwrap_or_else(|| json!({}));
        context["cum_confidence"] = json!(c.cum_in);
        context["step_confidence"] = json!(confidence);
        context["port"] = json!(port);
        let reviewers = def.settings.gate_reviewers();
        let item = NewItem {
            title: format!("Check {}: low confidence", node.name),
            instructions: format!(
                "Step '{}' ({}) finished, but {why}. Approve to go on with its result (edited if needed); reject to stop the run.",
                node.name, node.id
            ),
            roles: reviewers.roles,
            users: reviewers.users,
            proposed: output.clone(),
            context,
            ..base
        };
        tracing::info!(node = %node.id, "confidence gate: {why}");
        Ok(Some(Outcome::Ask {
            until: NEVER,
            item: Box::new(item),
        }))
    }

    /// A parked step with a decided confidence item ends as decided.
    pub(super) async fn gated_outcome(
        &self,
        run_id: &app::domain::ids::RunId,
        node: &app::domain::Node,
    ) -> Result<Option<Outcome>> {
        let node_id = node.id.as_str();
        let mut conn = self.db.acquire().await?;
        let Some(item) = items::for_step(&mut conn, run_id, node_id).await? else {
            return Ok(None);
        };
        if item.reason != "confidence" {
            return Ok(None);
        }
        Ok(Some(match item.status {
            ItemStatus::Approved => approved(
                node,
                item.final_output.clone().unwrap_or(Value::Null),
                &item.context,
            ),
            ItemStatus::Rejected => rejected(
                &item.decided_by.unwrap_or_default(),
                &item.comment.unwrap_or_default(),
            ),
            ItemStatus::Pending => Outcome::Park { until: NEVER },
            ItemStatus::Cancelled => Outcome::fail(
                ErrorClass::Business,
                "the review was cancelled before anyone decided",
            ),
        }))
    }
}

/// A doubtful result a person approved, perhaps edited: it goes on with a
/// person's certainty, and a classify step where the label leads.
pub(super) fn approved(node: &app::domain::Node, output: Value, context: &Value) -> Outcome {
    let port = match &node.kind {
        app::domain::NodeKind::Llm(cfg) => cfg.port_of(&output),
        _ => None,
    };
    Outcome::Done {
        port: port.unwrap_or_else(|| {
            context["port"]
                .as_str()
                .unwrap_or(app::domain::PORT_OUT)
                .to_string()
        }),
        output,
        confidence: Some(1.0),
    }
}

/// A doubtful result a person rejected: the step fails, saying who did.
pub(super) fn rejected(by: &str, comment: &str) -> Outcome {
    let why = if comment.is_empty() {
        String::new()
    } else {
        format!(": {comment}")
    };
    Outcome::fail(
        ErrorClass::Business,
        format!("the result was rejected by {by}{why}"),
    )
}
