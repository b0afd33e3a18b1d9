//! REST API v1: golden sets (a workflow's test cases, suites that run a
//! version against them, and the publish gate).

use crate::rest::{ApiJson, ApiResult, Who};
use crate::routes::AppState;
use app::domain::audit::Actor;
use app::domain::auth::Permission;
use app::domain::golden::{CaseSpec, TestCase};
use app::ops::golden::{self, SuiteReport, SuiteStarted};
use app::ops::{self, workflows};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Serialize, schemars::JsonSchema)]
pub struct CaseList {
    test_cases: Vec<TestCase>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FromRunBody {
    /// The case's name.
    name: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteBody {
    /// The version to run (the latest if none).
    #[serde(default)]
    version: Option<i64>,
    /// Inject these faults into every case's run (a chaos suite: it never
    /// gates publishing).
    #[serde(default)]
    chaos: Option<app::domain::chaos::ChaosPlan>,
}

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateBody {
    /// The share of the golden set's cases (percent, above 0, at most
    /// 100) a version must pass to be published; null: no gate.
    min_pass_pct: Option<f64>,
}

/// The caller, if they may write test cases.
fn writer(who: &Who) -> ApiResult<Actor> {
    Ok(Actor(
        who.may(Permission::EditWorkflows, "write test cases")?
            .actor,
    ))
}

type Created = (StatusCode, Json<TestCase>);

pub(crate) async fn list_cases(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseList>> {
    who.may(Permission::Read, "see test cases")?;
    workflows::get(&s.db, &id, None).await?;
    Ok(Json(CaseList {
        test_cases: golden::cases(&s.db, &id).await?,
    }))
}

pub(crate) async fn create_case(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<CaseSpec>,
) -> ApiResult<Created> {
    let actor = writer(&who)?;
    workflows::get(&s.db, &id, None).await?;
    let c = golden::create_case(&s.db, &actor, &id, spec, None, ops::now_ms()).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

pub(crate) async fn update_case(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<CaseSpec>,
) -> ApiResult<Json<TestCase>> {
    let actor = writer(&who)?;
    Ok(Json(
        golden::update_case(&s.db, &actor, &id, spec, ops::now_ms()).await?,
    ))
}

pub(crate) async fn delete_case(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    golden::delete_case(&s.db, &writer(&who)?, &id, ops::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /runs/{id}/test-case`: the ended run saved as a case.
pub(crate) async fn case_from_run(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FromRunBody>,
) -> ApiResult<Created> {
    let c = golden::case_from_run(&s.db, &writer(&who)?, &id, &body.name, ops::now_ms()).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// `POST /approvals/{id}/test-case`: the decided item saved as a case
/// (the decision becomes what must hold).
pub(crate) async fn case_from_item(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FromRunBody>,
) -> ApiResult<Created> {
    let c = golden::case_from_item(&s.db, &writer(&who)?, &id, &body.name, ops::now_ms()).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

pub(crate) async fn run_suite(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SuiteBody>,
) -> ApiResult<(StatusCode, Json<SuiteStarted>)> {
    let p = who.may(Permission::EditWorkflows, "run the golden set")?;
    let version = match body.version {
        Some(v) => v,
        None => workflows::get(&s.db, &id, None).await?.version,
    };
    let started = golden::run_suite(
        &s.db,
        &Actor(p.actor),
        &id,
        version,
        body.chaos.as_ref(),
        ops::now_ms(),
    )
    .await?;
    s.engine.wake();
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// `GET /test-suites/{id}`: how the suite did so far (cases whose runs
/// ended are judged on the way).
pub(crate) async fn suite_report(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<SuiteReport>> {
    who.may(Permission::Read, "see golden-set reports")?;
    Ok(Json(
        golden::report(&s.db, &*s.engine, &id, ops::now_ms()).await?,
    ))
}

pub(crate) async fn set_gate(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GateBody>,
) -> ApiResult<Json<GateBody>> {
    let p = who.may(Permission::EditWorkflows, "set the publish gate")?;
    let now = ops::now_ms();
    golden::set_publish_gate(&s.db, &Actor(p.actor), &id, body.min_pass_pct, now).await?;
    Ok(Json(body))
}
