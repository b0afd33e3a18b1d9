//! Running a version against every case, and judging the runs as they end.

use super::Evaluate;
use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::golden::judge::{CaseResult, judge, summary};
use crate::domain::golden::report::{Compared, SuiteReport, SuiteStarted, totals};
use crate::domain::run::RunStatus;
use crate::error::AppError;
use crate::store::{Db, StoreError, audit, golden as store};
use serde_json::json;

/// Runs `version` of the workflow against every case, each as a golden
/// test run, in one transaction.
pub async fn run_suite(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    version: i64,
    chaos: Option<&crate::domain::chaos::ChaosPlan>,
    now: i64,
) -> Result<SuiteStarted, AppError> {
    let runnable = crate::ops::runs::runnable(db, workflow_id, Some(version)).await?;
    if let Some(plan) = chaos {
        let problems = plan.problems(|s| runnable.def.node(s).is_some());
        if !problems.is_empty() {
            return Err(AppError::bad_request(format!(
                "the chaos plan cannot run: {}",
                problems.join("; ")
            )));
        }
    }
    let all = super::cases(db, workflow_id).await?;
    if all.is_empty() {
        return Err(AppError::bad_request(
            "this workflow has no test cases: add one, or save one from a run",
        ));
    }
    let suite_id = format!("suite_{}", uuid::Uuid::now_v7().simple());
    let mut tx = db.write().await?;
    store::insert_suite(
        &mut tx,
        &suite_id,
        workflow_id,
        version,
        chaos,
        now,
        &actor.0,
    )
    .await?;
    for c in &all {
        let run_id = crate::ops::runs::start_in(
            &mut tx,
            actor,
            &runnable,
            &c.spec.input,
            crate::ops::runs::Via::Golden(chaos),
            now,
        )
        .await?;
        store::insert_suite_case(&mut tx, &suite_id, &c.id, run_id.as_str(), &c.spec).await?;
    }
    let mut details = json!({"suite": suite_id, "version": version, "cases": all.len()});
    if let Some(plan) = chaos {
        details["chaos"] = json!(plan.summary());
    }
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

/// The published version's newest suite that is judged to the end, if it
/// is not `version`'s.
async fn published_figures(
    db: &Db,
    workflow_id: &str,
    version: i64,
) -> Result<Option<Compared>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let published = crate::store::workflows::published(&mut conn, workflow_id).await?;
    let Some(p) = published.filter(|p| *p != version) else {
        return Ok(None);
    };
    let Some(suite_id) = store::latest_finished_suite(&mut conn, workflow_id, p).await? else {
        return Ok(None);
    };
    let rows = store::suite_cases(&mut conn, &suite_id).await?;
    let results: Option<Vec<CaseResult>> = rows
        .iter()
        .map(|r| {
            r.result
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
        })
        .collect();
    Ok(results.map(|r| Compared {
        suite_id,
        version: p,
        totals: totals(&r),
    }))
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
    let published = published_figures(db, &workflow_id, version).await?;
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
        published,
    })
}
