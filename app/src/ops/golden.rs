//! Golden sets (issue 18): a workflow's test cases, written by hand or saved
//! from a run, and suites that run a version against them in isolation
//! (steps that call out answer from the case; the case decides for people)
//! and report how each case did. Assertions are user logic: they are
//! evaluated by the caller's sandbox ([`Evaluate`]), never here.

use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::golden::judge::{CaseResult, judge, summary};
use crate::domain::golden::report::{Totals, totals};
use crate::domain::golden::{CaseDecision, CaseSpec, Recorded, TestCase, check};
use crate::domain::graph::NodeKind;
use crate::domain::run::{ItemStatus, RunStatus, StepStatus};
use crate::error::{AppError, ErrorCode};
use crate::store::{Db, StoreError, audit, golden as store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;

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
    let def = {
        let mut conn = db.acquire().await.map_err(StoreError::from)?;
        crate::store::workflows::get_any(&mut conn, &run.run.workflow_id, run.run.version)
            .await?
            .definition
    };
    let mut spec = CaseSpec {
        name: name.to_string(),
        input: run.run.input.clone(),
        expect_output: (run.run.status == RunStatus::Succeeded)
            .then(|| run.run.output.clone().unwrap_or(Value::Null)),
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
        match &node.kind {
            NodeKind::Branch { .. } => {
                spec.expect_routes.insert(s.node_id.clone(), port);
            }
            NodeKind::Llm(_) | NodeKind::Http { .. } => {
                if matches!(node.kind, NodeKind::Llm(_)) && port != crate::domain::PORT_OUT {
                    spec.expect_routes.insert(s.node_id.clone(), port.clone());
                }
                spec.recorded.insert(
                    s.node_id.clone(),
                    Recorded {
                        output: s.output.clone().unwrap_or(Value::Null),
                        confidence: s.confidence,
                        port: Some(port),
                    },
                );
            }
            _ => {}
        }
    }
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    for item in crate::store::approvals::of_run(&mut conn, &run.run.id).await? {
        let decision = match item.status {
            ItemStatus::Approved => match &item.final_output {
                Some(o) if *o != item.proposed => CaseDecision::Edit { output: o.clone() },
                _ => CaseDecision::Approve,
            },
            ItemStatus::Rejected => CaseDecision::Reject,
            _ => continue,
        };
        spec.decisions.insert(item.node_id.clone(), decision);
    }
    drop(conn);
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

/// A suite started: its id and how many cases it runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SuiteStarted {
    pub suite_id: String,
    pub version: i64,
    pub cases: usize,
}

/// Runs `version` of the workflow against every case, each as a golden
/// test run, in one transaction.
pub async fn run_suite(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    version: i64,
    now: i64,
) -> Result<SuiteStarted, AppError> {
    let runnable = crate::ops::runs::runnable(db, workflow_id, Some(version)).await?;
    let all = cases(db, workflow_id).await?;
    if all.is_empty() {
        return Err(AppError::bad_request(
            "this workflow has no test cases: add one, or save one from a run",
        ));
    }
    let suite_id = format!("suite_{}", uuid::Uuid::now_v7().simple());
    let mut tx = db.write().await?;
    store::insert_suite(&mut tx, &suite_id, workflow_id, version, now, &actor.0).await?;
    for c in &all {
        let run_id = crate::ops::runs::start_in(
            &mut tx,
            actor,
            &runnable,
            &c.spec.input,
            crate::ops::runs::Via::Golden,
            now,
        )
        .await?;
        store::insert_suite_case(&mut tx, &suite_id, &c.id, run_id.as_str(), &c.spec).await?;
    }
    let details = json!({"suite": suite_id, "version": version, "cases": all.len()});
    let entity = format!("workflow:{workflow_id}");
    audit::append(
        &mut tx,
        &NewAuditEvent::new(now, &actor.0, "test_suite.started", entity, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(SuiteStarted {
        suite_id,
        version,
        cases: all.len(),
    })
}

/// How a suite did so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SuiteReport {
    pub suite_id: String,
    pub workflow_id: String,
    pub version: i64,
    pub started_at: i64,
    pub started_by: String,
    /// Every case judged.
    pub finished: bool,
    /// Cases whose test run has not ended yet.
    pub pending: usize,
    #[serde(flatten)]
    pub totals: Totals,
    pub cases: Vec<CaseResult>,
}

/// The suite's report, judging the cases whose runs ended since the last
/// look (their assertions evaluated by `eval`) and keeping the verdicts.
pub async fn report(
    db: &Db,
    eval: &dyn Evaluate,
    suite_id: &str,
    now: i64,
) -> Result<SuiteReport, AppError> {
    let not_found = || AppError::not_found(format!("no test suite '{suite_id}'"));
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let (workflow_id, version, started_at, started_by, finished_at) =
        store::suite(&mut conn, suite_id)
            .await?
            .ok_or_else(not_found)?;
    let rows = store::suite_cases(&mut conn, suite_id).await?;
    drop(conn);
    let mut results = Vec::with_capacity(rows.len());
    let mut pending = 0;
    for row in rows {
        if let Some(r) = row
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
        {
            results.push(r);
            continue;
        }
        let run = crate::ops::runs::get(db, &row.run_id).await?;
        if run.run.status == RunStatus::Running {
            pending += 1;
            continue;
        }
        let asked = {
            let mut conn = db.acquire().await.map_err(StoreError::from)?;
            store::asked(&mut conn, &row.run_id).await?
        };
        let seen = summary(
            run.run.status.as_str(),
            run.run.output.as_ref(),
            &run.steps,
            &asked,
        );
        let exprs: Vec<String> = row.spec.assertions.iter().map(|a| a.jq.clone()).collect();
        let evaluated = if exprs.is_empty() {
            Vec::new()
        } else {
            eval.jq(&exprs, &seen).await
        };
        let verdict = judge(&row.case_id, &row.spec, &row.run_id, &seen, &evaluated);
        let json = serde_json::to_string(&verdict).map_err(|e| AppError::internal(&e))?;
        let mut tx = db.write().await?;
        store::set_result(&mut tx, suite_id, &row.case_id, &json).await?;
        tx.commit().await.map_err(StoreError::from)?;
        results.push(verdict);
    }
    let finished = pending == 0;
    if finished && finished_at.is_none() {
        let mut tx = db.write().await?;
        store::finish_suite(&mut tx, suite_id, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
    }
    Ok(SuiteReport {
        suite_id: suite_id.to_string(),
        workflow_id,
        version,
        started_at,
        started_by,
        finished,
        pending,
        totals: totals(&results),
        cases: results,
    })
}

/// What a workflow's publish gate says of a version.
#[derive(Clone, Debug, PartialEq)]
pub enum GateVerdict {
    /// The workflow sets no gate.
    None,
    /// The version's newest golden-set run clears it.
    Passed(Totals),
    /// It falls short, has not run or is still running: why.
    Short(String),
}

/// The gate's verdict on publishing `version` (its newest suite judged,
/// assertions evaluated by `eval`).
pub async fn gate_check(
    db: &Db,
    eval: Option<&dyn Evaluate>,
    workflow_id: &str,
    version: i64,
    now: i64,
) -> Result<GateVerdict, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let Some(min) = store::publish_gate(&mut conn, workflow_id).await? else {
        return Ok(GateVerdict::None);
    };
    let needs = format!("publishing requires the golden set to pass ({min:.0} % of its cases)");
    let Some(suite) = store::latest_suite(&mut conn, workflow_id, version).await? else {
        return Ok(GateVerdict::Short(format!(
            "{needs}, and it has not run on version {version}: run it first"
        )));
    };
    drop(conn);
    let Some(eval) = eval else {
        return Ok(GateVerdict::Short(format!(
            "{needs}; it cannot be judged here"
        )));
    };
    let r = report(db, eval, &suite, now).await?;
    if !r.finished {
        return Ok(GateVerdict::Short(format!(
            "{needs}, and its run on version {version} is not finished ({} case(s) left): publish once it is",
            r.pending
        )));
    }
    Ok(match crate::domain::golden::report::gate(&r.cases, min) {
        Ok(()) => GateVerdict::Passed(r.totals),
        Err(why) => GateVerdict::Short(why),
    })
}

/// Sets the share of the golden set (percent) publishing requires, or
/// none; audited.
pub async fn set_publish_gate(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    min_pass_pct: Option<f64>,
    now: i64,
) -> Result<(), AppError> {
    if let Some(p) = min_pass_pct
        && !(p.is_finite() && p > 0.0 && p <= 100.0)
    {
        return Err(invalid(
            "min_pass_pct: a share of the cases above 0 and at most 100, or null for no gate"
                .into(),
        ));
    }
    let mut tx = db.write().await?;
    store::set_publish_gate(&mut tx, workflow_id, min_pass_pct)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found(format!("no workflow '{workflow_id}'")),
            e => e.into(),
        })?;
    let entity = format!("workflow:{workflow_id}");
    let details = json!({"min_pass_pct": min_pass_pct});
    audit::append(
        &mut tx,
        &NewAuditEvent::new(now, &actor.0, "workflow.publish_gate", entity, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
