//! Golden sets (issue 18): a workflow's test cases, written by hand or saved
//! from a run, and suites that run a version against them in isolation
//! (steps that call out answer from the case; the case decides for people)
//! and report how each case did. Assertions are user logic: they are
//! evaluated by the caller's sandbox ([`Evaluate`]), never here.

use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::golden::{CaseDecision, CaseSpec, Recorded, TestCase, check};
use crate::domain::graph::NodeKind;
use crate::domain::run::{ItemStatus, RunStatus, StepStatus};

mod gate;
mod suite;
pub use crate::domain::golden::report::{Compared, SuiteReport, SuiteStarted};
use crate::error::{AppError, ErrorCode};
use crate::store::{Db, StoreError, audit, golden as store};
pub use gate::{GateVerdict, gate_check, set_publish_gate};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
pub use suite::{report, run_suite};

/// Each expression's value, or why it has none.
pub type Evaluated<'a> = Pin<Box<dyn Future<Output = Vec<Result<Value, String>>> + Send + 'a>>;

/// Evaluates jq expressions over one value, each on its own, in a sandbox.
pub trait Evaluate: Send + Sync {
    fn jq<'a>(&'a self, exprs: &'a [String], input: &'a Value) -> Evaluated<'a>;
}

/// The server's evaluator, for the pages' server functions.
#[derive(Clone)]
pub struct Judge(pub std::sync::Arc<dyn Evaluate>);

fn invalid(m: String) -> AppError {
    AppError::new(ErrorCode::InvalidInput, m)
}

/// Adds a case to a workflow.
pub async fn create_case(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    spec: CaseSpec,
    source: Option<String>,
    now: i64,
) -> Result<TestCase, AppError> {
    check(&spec).map_err(invalid)?;
    let case = TestCase {
        id: format!("case_{}", uuid::Uuid::now_v7().simple()),
        workflow_id: workflow_id.to_string(),
        spec,
        source,
        created_at: now,
        created_by: actor.0.clone(),
        updated_at: now,
    };
    let mut tx = db.write().await?;
    crate::store::workflows::get_any(&mut tx, workflow_id, 1)
        .await
        .map_err(|_| AppError::not_found(format!("no workflow '{workflow_id}'")))?;
    store::insert_case(&mut tx, &case).await?;
    let details = json!({"case": case.id, "name": case.spec.name, "source": case.source});
    let entity = format!("workflow:{workflow_id}");
    audit::append(
        &mut tx,
        &NewAuditEvent::new(now, &actor.0, "test_case.created", entity, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(case)
}

/// A workflow's cases, oldest first.
pub async fn cases(db: &Db, workflow_id: &str) -> Result<Vec<TestCase>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    Ok(store::cases(&mut conn, workflow_id).await?)
}

/// What a run shows a case should hold, but for its name and output: its
/// input, the route each Branch and classify step took, the answers of the
/// steps that called out (for one a person checked, the answer they
/// checked), and how people decided.
async fn observed(db: &Db, run: &crate::domain::records::RunDetail) -> Result<CaseSpec, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let def = crate::store::workflows::get_any(&mut conn, &run.run.workflow_id, run.run.version)
        .await?
        .definition;
    let mut spec = CaseSpec {
        input: run.run.input.clone(),
        ..Default::default()
    };
    for s in run
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Succeeded)
    {
        let Some(node) = def.node(&s.node_id) else {
            continue;
        };
        let port = s.port.clone().unwrap_or_default();
        let llm = matches!(node.kind, NodeKind::Llm(_));
        if matches!(node.kind, NodeKind::Branch { .. }) || (llm && port != crate::domain::PORT_OUT)
        {
            spec.expect_routes.insert(s.node_id.clone(), port.clone());
        }
        if llm || matches!(node.kind, NodeKind::Http { .. }) {
            let answer = Recorded {
                output: s.output.clone().unwrap_or(Value::Null),
                confidence: s.confidence,
                port: Some(port),
            };
            spec.recorded.insert(s.node_id.clone(), answer);
        }
    }
    for item in crate::store::approvals::of_run(&mut conn, &run.run.id).await? {
        if item.reason == "confidence" && spec.recorded.contains_key(&item.node_id) {
            // what the step answered, before a person checked it
            let answer = Recorded {
                output: item.proposed.clone(),
                confidence: item.context["step_confidence"].as_f64(),
                port: item.context["port"].as_str().map(str::to_string),
            };
            spec.recorded.insert(item.node_id.clone(), answer);
        }
        if let Some(d) = decision_of(&item) {
            spec.decisions.insert(item.node_id.clone(), d);
        }
    }
    Ok(spec)
}

/// How a person decided an item, as a case decides it (None: undecided).
fn decision_of(item: &crate::domain::approvals::ApprovalItem) -> Option<CaseDecision> {
    match item.status {
        ItemStatus::Approved => Some(match &item.final_output {
            Some(o) if *o != item.proposed => CaseDecision::Edit { output: o.clone() },
            _ => CaseDecision::Approve,
        }),
        ItemStatus::Rejected => Some(CaseDecision::Reject),
        _ => None,
    }
}

/// A case saved from a decided item: the run's input and recorded
/// answers, the case decides as the person did, and what the person
/// decided is what must hold (the step's output, or its rejection).
pub async fn case_from_item(
    db: &Db,
    actor: &Actor,
    item_id: &str,
    name: &str,
    now: i64,
) -> Result<TestCase, AppError> {
    let (item, _) = crate::ops::approvals::get(db, item_id).await?;
    let Some(decision) = decision_of(&item) else {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "the item is not decided yet: save it as a test case once someone has",
        ));
    };
    let run = crate::ops::runs::get(db, item.run_id.as_str()).await?;
    let mut spec = observed(db, &run).await?;
    spec.name = name.to_string();
    let step = serde_json::to_string(&item.node_id).map_err(|e| AppError::internal(&e))?;
    let (what, jq) = match &decision {
        CaseDecision::Reject => (
            "rejected".to_string(),
            format!(".steps[{step}].status == \"failed\" or .steps[{step}].port == \"rejected\""),
        ),
        CaseDecision::Approve | CaseDecision::Edit { .. } => {
            let output = item.final_output.clone().unwrap_or(Value::Null);
            (
                "approved as decided".to_string(),
                format!(".steps[{step}].output == {output}"),
            )
        }
    };
    spec.assertions.push(crate::domain::golden::Assertion {
        name: format!("{}: {what}", item.node_name),
        jq,
    });
    spec.decisions.insert(item.node_id.clone(), decision);
    create_case(
        db,
        actor,
        &item.workflow_id,
        spec,
        Some(format!("item:{item_id}")),
        now,
    )
    .await
}

/// A case saved from a finished run: its input, its output as expected,
/// the route each Branch and classify step took, the answers of the steps
/// that called out (recorded), and how people decided (the case decides
/// the same).
pub async fn case_from_run(
    db: &Db,
    actor: &Actor,
    run_id: &str,
    name: &str,
    now: i64,
) -> Result<TestCase, AppError> {
    let run = crate::ops::runs::get(db, run_id).await?;
    if run.run.status == RunStatus::Running {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "the run has not ended yet: save it as a test case once it has",
        ));
    }
    let mut spec = observed(db, &run).await?;
    spec.name = name.to_string();
    spec.expect_output = (run.run.status == RunStatus::Succeeded)
        .then(|| run.run.output.clone().unwrap_or(Value::Null));
    let workflow_id = run.run.workflow_id.clone();
    create_case(
        db,
        actor,
        &workflow_id,
        spec,
        Some(format!("run:{run_id}")),
        now,
    )
    .await
}

/// Replaces a case's spec; audited.
pub async fn update_case(
    db: &Db,
    actor: &Actor,
    id: &str,
    spec: CaseSpec,
    now: i64,
) -> Result<TestCase, AppError> {
    check(&spec).map_err(invalid)?;
    let not_found = || AppError::not_found(format!("no test case '{id}'"));
    let mut tx = db.write().await?;
    let old = store::get_case(&mut tx, id).await?.ok_or_else(not_found)?;
    store::update_case(&mut tx, id, &spec, now).await?;
    let entity = format!("workflow:{}", old.workflow_id);
    let details = json!({"case": id, "name": spec.name});
    audit::append(
        &mut tx,
        &NewAuditEvent::new(now, &actor.0, "test_case.changed", entity, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(TestCase {
        spec,
        updated_at: now,
        ..old
    })
}

/// Removes a case (suites that ran it keep their copy); audited.
pub async fn delete_case(db: &Db, actor: &Actor, id: &str, now: i64) -> Result<(), AppError> {
    let not_found = || AppError::not_found(format!("no test case '{id}'"));
    let mut tx = db.write().await?;
    let old = store::get_case(&mut tx, id).await?.ok_or_else(not_found)?;
    store::delete_case(&mut tx, id).await?;
    let entity = format!("workflow:{}", old.workflow_id);
    let details = json!({"case": id, "name": old.spec.name});
    audit::append(
        &mut tx,
        &NewAuditEvent::new(now, &actor.0, "test_case.deleted", entity, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
