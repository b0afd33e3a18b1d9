//! Testing one step of a working copy with sample data, without a run.
//! The engine (in the server) does the running through [`StepTester`];
//! this decides whether the test may happen and records that it did.

use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::graph::WorkflowDef;
use crate::domain::step_test::{StepTestResult, may_test, side_effect};
use crate::error::AppError;
use crate::store::{Db, audit};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Runs one step on its own: the server's engine, with its sandbox, its
/// outbound policy and the secrets the step names.
pub trait StepTester: Send + Sync {
    fn test<'a>(
        &'a self,
        node: &'a crate::domain::Node,
        context: &'a Value,
    ) -> Pin<Box<dyn Future<Output = StepTestResult> + Send + 'a>>;

    /// Whether a Code step's JavaScript compiles (in the engine that runs
    /// it); the error names its line.
    fn check_code<'a>(
        &'a self,
        source: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// The tester, shared through the request context.
#[derive(Clone)]
pub struct Tester(pub Arc<dyn StepTester>);

/// Tests step `node_id` of `def` (a working copy of workflow
/// `workflow_id`) over `context` (`{input, steps}`); a step that changes
/// something elsewhere only when `confirmed`. Audited as `step.tested`.
#[allow(clippy::too_many_arguments)]
pub async fn test(
    db: &Db,
    tester: &Tester,
    actor: &Actor,
    workflow_id: &str,
    def: &WorkflowDef,
    node_id: &str,
    context: &Value,
    confirmed: bool,
    now: i64,
) -> Result<StepTestResult, AppError> {
    let node = def
        .node(node_id)
        .ok_or_else(|| AppError::not_found(format!("the workflow has no step '{node_id}'")))?;
    may_test(&node.kind, confirmed).map_err(AppError::bad_request)?;
    let problems: Vec<_> = crate::domain::validate(def)
        .into_iter()
        .filter(|p| p.node.as_deref() == Some(node_id))
        .collect();
    if !problems.is_empty() {
        let mut e = AppError::invalid_workflow(problems);
        e.message = format!("fix the step first: {}", e.message);
        return Err(e);
    }
    if !context.is_object() {
        return Err(AppError::bad_request(
            "the sample data is a JSON object: {\"input\": …, \"steps\": {\"<id>\": {\"output\": …}}}",
        ));
    }
    // recorded before it runs: a step that calls out is accounted for
    // even if the server stops while it does
    let details = json!({
        "node": node_id,
        "kind": node.kind.type_name(),
        "side_effect": side_effect(&node.kind).is_some(),
    });
    {
        let mut tx = db.write().await?;
        audit::append(
            &mut tx,
            &NewAuditEvent::new(
                now,
                &actor.0,
                "step.tested",
                format!("workflow:{workflow_id}"),
                details,
            ),
        )
        .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
    }
    Ok(tester.0.test(node, context).await)
}
