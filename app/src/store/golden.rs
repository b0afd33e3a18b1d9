//! Golden sets: test cases, the suites that run a version against them,
//! and the gate a workflow sets on publishing.

use super::{Result, StoreError};
use crate::domain::golden::{CaseSpec, TestCase};
use crate::store::conn::{Conn, query, query_as, query_scalar};

fn spec_json(spec: &CaseSpec) -> Result<String> {
    serde_json::to_string(spec).map_err(|e| StoreError::Corrupt(e.to_string()))
}

type CaseRow = (String, String, String, Option<String>, i64, String, i64);

fn case(row: CaseRow) -> Result<TestCase> {
    let (id, workflow_id, spec, source, created_at, created_by, updated_at) = row;
    let spec: CaseSpec = serde_json::from_str(&spec)
        .map_err(|e| StoreError::Corrupt(format!("test case {id}: {e}")))?;
    Ok(TestCase {
        id,
        workflow_id,
        spec,
        source,
        created_at,
        created_by,
        updated_at,
    })
}

const CASE_COLUMNS: &str = "id, workflow_id, spec, source, created_at, created_by, updated_at";

pub async fn insert_case(conn: &mut Conn, c: &TestCase) -> Result<()> {
    query(
        "INSERT INTO test_cases (id, workflow_id, name, spec, source, created_at, created_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id)
    .bind(&c.workflow_id)
    .bind(&c.spec.name)
    .bind(spec_json(&c.spec)?)
    .bind(&c.source)
    .bind(c.created_at)
    .bind(&c.created_by)
    .bind(c.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces a case's spec; `NotFound` if there is no such case.
pub async fn update_case(conn: &mut Conn, id: &str, spec: &CaseSpec, now: i64) -> Result<()> {
    let done = query("UPDATE test_cases SET name = $1, spec = $2, updated_at = $3 WHERE id = $4")
        .bind(&spec.name)
        .bind(spec_json(spec)?)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    crate::store::found(done.rows_affected())
}

pub async fn delete_case(conn: &mut Conn, id: &str) -> Result<()> {
    let done = query("DELETE FROM test_cases WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    crate::store::found(done.rows_affected())
}

pub async fn get_case(conn: &mut Conn, id: &str) -> Result<Option<TestCase>> {
    let row: Option<CaseRow> = query_as(format!(
        "SELECT {CASE_COLUMNS} FROM test_cases WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(case).transpose()
}

/// A workflow's cases, oldest first.
pub async fn cases(conn: &mut Conn, workflow_id: &str) -> Result<Vec<TestCase>> {
    let rows: Vec<CaseRow> = query_as(format!(
        "SELECT {CASE_COLUMNS} FROM test_cases WHERE workflow_id = $1 ORDER BY created_at, id"
    ))
    .bind(workflow_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(case).collect()
}

pub async fn insert_suite(
    conn: &mut Conn,
    id: &str,
    workflow_id: &str,
    version: i64,
    chaos: Option<&crate::domain::chaos::ChaosPlan>,
    started_at: i64,
    started_by: &str,
) -> Result<()> {
    query(
        "INSERT INTO test_suites (id, workflow_id, version, started_at, started_by, chaos) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(workflow_id)
    .bind(version)
    .bind(started_at)
    .bind(started_by)
    .bind(chaos.map(|c| serde_json::to_string(c).unwrap_or_default()))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_suite_case(
    conn: &mut Conn,
    suite_id: &str,
    case_id: &str,
    run_id: &str,
    spec: &CaseSpec,
) -> Result<()> {
    query("INSERT INTO test_suite_cases (suite_id, case_id, run_id, spec) VALUES ($1, $2, $3, $4)")
        .bind(suite_id)
        .bind(case_id)
        .bind(run_id)
        .bind(spec_json(spec)?)
        .execute(conn)
        .await?;
    Ok(())
}

/// A suite: (workflow id, version, started at, started by, finished at).
pub type SuiteRow = (String, i64, i64, String, Option<i64>);

pub async fn suite(conn: &mut Conn, id: &str) -> Result<Option<SuiteRow>> {
    Ok(query_as(
        "SELECT workflow_id, version, started_at, started_by, finished_at FROM test_suites WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// One case of a suite as it was run: its id, its test run, the case, and
/// its result once judged (JSON).
pub struct SuiteCase {
    pub case_id: String,
    pub run_id: String,
    pub spec: CaseSpec,
    pub result: Option<String>,
}

pub async fn suite_cases(conn: &mut Conn, suite_id: &str) -> Result<Vec<SuiteCase>> {
    let rows: Vec<(String, String, String, Option<String>)> = query_as(
        "SELECT case_id, run_id, spec, result FROM test_suite_cases WHERE suite_id = $1 ORDER BY case_id",
    )
    .bind(suite_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(case_id, run_id, spec, result)| {
            Ok(SuiteCase {
                spec: serde_json::from_str(&spec)
                    .map_err(|e| StoreError::Corrupt(format!("suite case {case_id}: {e}")))?,
                case_id,
                run_id,
                result,
            })
        })
        .collect()
}

pub async fn set_result(
    conn: &mut Conn,
    suite_id: &str,
    case_id: &str,
    result: &str,
) -> Result<()> {
    query("UPDATE test_suite_cases SET result = $1 WHERE suite_id = $2 AND case_id = $3 AND result IS NULL")
        .bind(result)
        .bind(suite_id)
        .bind(case_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn finish_suite(conn: &mut Conn, id: &str, at: i64) -> Result<()> {
    query("UPDATE test_suites SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest suite of `version` of the workflow, if any ran.
pub async fn latest_suite(
    conn: &mut Conn,
    workflow_id: &str,
    version: i64,
) -> Result<Option<String>> {
    Ok(query_scalar(
        "SELECT id FROM test_suites WHERE workflow_id = $1 AND version = $2 AND chaos IS NULL
         ORDER BY started_at DESC, id DESC LIMIT 1",
    )
    .bind(workflow_id)
    .bind(version)
    .fetch_optional(conn)
    .await?)
}

/// The newest suite of `version` whose every case is judged, if any.
pub async fn latest_finished_suite(
    conn: &mut Conn,
    workflow_id: &str,
    version: i64,
) -> Result<Option<String>> {
    Ok(query_scalar(
        "SELECT id FROM test_suites WHERE workflow_id = $1 AND version = $2 AND finished_at IS NOT NULL
         AND chaos IS NULL ORDER BY started_at DESC, id DESC LIMIT 1",
    )
    .bind(workflow_id)
    .bind(version)
    .fetch_optional(conn)
    .await?)
}

/// The case a golden run plays (None for any other run).
pub async fn case_of_run(conn: &mut Conn, run_id: &str) -> Result<Option<CaseSpec>> {
    let spec: Option<String> = query_scalar("SELECT spec FROM test_suite_cases WHERE run_id = $1")
        .bind(run_id)
        .fetch_optional(conn)
        .await?;
    spec.map(|s| {
        serde_json::from_str(&s)
            .map_err(|e| StoreError::Corrupt(format!("golden run {run_id}: {e}")))
    })
    .transpose()
}

/// The share of the golden set (percent) publishing requires, if any.
pub async fn publish_gate(conn: &mut Conn, workflow_id: &str) -> Result<Option<f64>> {
    Ok(
        query_scalar::<Option<f64>>("SELECT publish_min_pass FROM workflows WHERE id = $1")
            .bind(workflow_id)
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}

pub async fn set_publish_gate(
    conn: &mut Conn,
    workflow_id: &str,
    min_pass: Option<f64>,
) -> Result<()> {
    let done = query("UPDATE workflows SET publish_min_pass = $1 WHERE id = $2")
        .bind(min_pass)
        .bind(workflow_id)
        .execute(conn)
        .await?;
    crate::store::found(done.rows_affected())
}

/// Notes, in a golden run, that a person would have been asked at `step`
/// (`reason`: approval or confidence).
pub async fn note_asked(conn: &mut Conn, run_id: &str, step: &str, reason: &str) -> Result<()> {
    let asked: Option<String> =
        query_scalar("SELECT asked FROM test_suite_cases WHERE run_id = $1")
            .bind(run_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(asked) = asked else {
        return Ok(());
    };
    let mut list: Vec<(String, String)> = serde_json::from_str(&asked).unwrap_or_default();
    list.push((step.to_string(), reason.to_string()));
    let json = serde_json::to_string(&list).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    query("UPDATE test_suite_cases SET asked = $1 WHERE run_id = $2")
        .bind(json)
        .bind(run_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Where a golden run's case decided in place of a person: (step, reason).
pub async fn asked(conn: &mut Conn, run_id: &str) -> Result<Vec<(String, String)>> {
    let asked: Option<String> =
        query_scalar("SELECT asked FROM test_suite_cases WHERE run_id = $1")
            .bind(run_id)
            .fetch_optional(conn)
            .await?;
    Ok(asked
        .map(|a| serde_json::from_str(&a).unwrap_or_default())
        .unwrap_or_default())
}
