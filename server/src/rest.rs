//! REST API v1 (JSON). Errors are `{"error": {"code", "message", "problems"?}}`.

use crate::routes::AppState;
use app::domain::WorkflowDef;
use app::domain::audit::Actor;
use app::domain::auth::{Permission, Principal};
use app::domain::records::{WorkflowSummary, WorkflowVersion};
use app::error::{AppError, ErrorCode};
use app::ops::{self, workflows};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The routes are in `openapi::table` (one table for the router and its
/// description); this adds the API's own answer for a route that is not
/// there, and the body limit its JSON errors name.
pub fn routes(max_body_bytes: usize) -> Router<AppState> {
    crate::openapi::api_routes()
        .fallback(not_found)
        .layer(axum::Extension(BodyLimit(max_body_bytes)))
}

#[derive(Clone, Copy)]
struct BodyLimit(usize);

/// An `AppError` as an HTTP response.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<app::store::StoreError> for ApiError {
    fn from(e: app::store::StoreError) -> Self {
        ApiError(e.into())
    }
}

/// Every error answer: `{"error": {"code", "message", "problems"?}}`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    pub error: AppError,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorBody { error: self.0 })).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The caller of a REST request, as `crate::auth::authenticate` found it.
pub struct Who(pub Option<Principal>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Who {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Who(parts
            .extensions
            .get::<app::api::Caller>()
            .and_then(|c| c.0.clone())))
    }
}

impl Who {
    /// The caller if their role has `perm` (401 without one, else 403).
    pub fn may(&self, perm: Permission, what: &str) -> ApiResult<Principal> {
        app::api::authorize(self.0.as_ref(), perm, what).map_err(ApiError)
    }
}

/// Query-string extractor whose rejections say which parameter is wrong,
/// in our error format (axum's own answer is plain text).
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(ApiQuery)
            .map_err(|e| {
                let what = match e.path().to_string() {
                    p if p == "." || p.is_empty() => "the query string".to_string(),
                    p => format!("the query parameter '{p}'"),
                };
                ApiError(AppError::bad_request(format!(
                    "{what} is wrong: {}",
                    e.inner()
                )))
            })
    }
}

/// JSON body extractor whose rejections say what to fix, in our error format.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0);
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError(json_rejection(rejection, limit))),
        }
    }
}

fn json_rejection(r: JsonRejection, limit: Option<usize>) -> AppError {
    match r {
        JsonRejection::JsonSyntaxError(e) => {
            AppError::bad_request(format!("the body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => AppError::bad_request(format!(
            "the JSON does not have the expected shape: {}",
            e.body_text()
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        )),
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with the header Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::new(
            ErrorCode::PayloadTooLarge,
            match limit {
                Some(n) => format!("the body is larger than the limit of {n} bytes; send less"),
                None => "the body is too large; send less".to_string(),
            },
        ),
        other => AppError::bad_request(other.body_text()),
    }
}

/// An optional JSON body: empty means the defaults.
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError(AppError::bad_request(if e.is_syntax() || e.is_eof() {
            format!("the body is not valid JSON: {e}")
        } else {
            format!("the JSON does not have the expected shape: {e}")
        }))
    })
}

async fn not_found() -> ApiError {
    ApiError(AppError::not_found(
        "no such API route; GET /api/v1/openapi.json lists them (the API reference page is /api)",
    ))
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct WorkflowList {
    workflows: Vec<WorkflowSummary>,
    /// The `offset` of the next page, when this one is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_offset: Option<i64>,
}

/// `limit` (1 to 500) entries from `offset` (0 when not given).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

impl PageQuery {
    pub(crate) fn paging(&self, default: i64) -> Result<app::domain::records::Paging, AppError> {
        app::domain::records::Paging::of(self.limit, self.offset, default)
            .map_err(AppError::bad_request)
    }
}

pub(crate) async fn list_workflows(
    State(s): State<AppState>,
    who: Who,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<WorkflowList>> {
    who.may(Permission::Read, "see workflows")?;
    let page = q.paging(100)?;
    let workflows = workflows::list(&s.db, page).await?;
    Ok(Json(WorkflowList {
        next_offset: page.next(workflows.len()),
        workflows,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    definition: WorkflowDef,
}

pub(crate) async fn create_workflow(
    State(s): State<AppState>,
    who: Who,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Response> {
    let p = who.may(Permission::EditWorkflows, "change workflows")?;
    let created = workflows::create(
        &s.db,
        &Actor(p.actor.clone()),
        &body.name,
        &body.definition,
        false,
        ops::now_ms(),
    )
    .await?;
    let location = format!("/api/v1/workflows/{}", created.workflow_id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

pub(crate) async fn get_workflow(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowVersion>> {
    who.may(Permission::Read, "see workflows")?;
    Ok(Json(workflows::get(&s.db, &id, None).await?))
}

pub(crate) async fn list_versions(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Vec<app::domain::records::VersionInfo>>> {
    who.may(Permission::Read, "see workflows")?;
    Ok(Json(workflows::versions(&s.db, &id, q.paging(100)?).await?))
}

pub(crate) async fn get_version(
    State(s): State<AppState>,
    who: Who,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<Json<WorkflowVersion>> {
    who.may(Permission::Read, "see workflows")?;
    let n: i64 = version.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        AppError::bad_request(format!("'{version}' is not a version number (1, 2, ...)"))
    })?;
    Ok(Json(workflows::get(&s.db, &id, Some(n)).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    definition: WorkflowDef,
}

pub(crate) async fn save_workflow(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SaveBody>,
) -> ApiResult<Json<WorkflowVersion>> {
    let p = who.may(Permission::EditWorkflows, "change workflows")?;
    let saved = workflows::save_version(
        &s.db,
        &Actor(p.actor.clone()),
        &id,
        &body.definition,
        false,
        ops::now_ms(),
    )
    .await?;
    Ok(Json(saved))
}

pub(crate) async fn delete_workflow(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = who.may(Permission::EditWorkflows, "change workflows")?;
    workflows::delete(&s.db, &Actor(p.actor.clone()), &id, ops::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    version: i64,
    /// Publish even though the version falls short of the golden-set gate
    /// (admins only; the audit event says so and why).
    #[serde(default)]
    override_gate: bool,
}

/// `PUT /workflows/{id}/published {"version": n}`: publishes version n.
pub(crate) async fn publish(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PublishBody>,
) -> ApiResult<Json<WorkflowVersion>> {
    let p = who.may(Permission::EditWorkflows, "publish workflows")?;
    let eval: &dyn app::ops::golden::Evaluate = &*s.engine;
    let gate = if body.override_gate {
        who.may(Permission::Administer, "publish past the golden set's gate")?;
        workflows::Gate::Override(Some(eval))
    } else {
        workflows::Gate::Check(Some(eval))
    };
    let now = ops::now_ms();
    let w = workflows::publish(&s.db, &Actor(p.actor), &id, body.version, gate, now).await?;
    Ok(Json(w))
}

/// `DELETE /workflows/{id}/published`: no version is published any more.
pub(crate) async fn unpublish(
    State(s): State<AppState>,
    who: Who,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = who.may(Permission::EditWorkflows, "unpublish workflows")?;
    workflows::unpublish(&s.db, &Actor(p.actor), &id, ops::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
