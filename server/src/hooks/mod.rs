//! Webhook deliveries: `POST /hooks/<id or chosen path>`.
//!
//! In order: find the webhook (404), paused (503, try later), check the
//! signature or token (401), read the JSON body (400), hand it to whoever
//! listens for a test event on any process (200, no run), require a
//! published version (409), map the request to the run input and check it
//! against the Start schema (422), then, in one transaction, either find
//! the delivery key already used (the first delivery's run) or start a run
//! and record the delivery. A refusal is written down for the Triggers
//! panel at a bounded pace, the last few kept (`ops::triggers::Deliveries`),
//! so a flood of bad requests can neither fill the database nor keep its
//! writer busy.

pub mod respond;
pub mod signature;

use crate::rest::ApiError;
use crate::routes::AppState;
use crate::sandbox::{Job, Request};
use app::domain::triggers::{Trigger, TriggerSpec, WebhookAuth, WebhookSpec};
use app::error::{AppError, ErrorCode};
use app::ops::triggers::TestEvent;
use app::ops::{self, runs};
use app::store::{StoreError, triggers as store};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub fn routes() -> axum::Router<AppState> {
    crate::openapi::hook_routes()
}

/// A refusal: remembered for the panel, answered with `code` and `why`.
async fn refuse(s: &AppState, t: &Trigger, code: ErrorCode, why: String) -> Response {
    s.deliveries
        .refused(&s.db, &t.id, ops::now_ms(), &why)
        .await;
    ApiError(AppError::new(code, why)).into_response()
}

pub(crate) async fn deliver(
    State(s): State<AppState>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let now = ops::now_ms();
    let found = match s.db.acquire().await {
        Ok(mut conn) => store::webhook_at(&mut conn, &path).await,
        Err(e) => Err(StoreError::from(e)),
    };
    let (t, current, previous) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            return ApiError(AppError::not_found(format!("no webhook at /hooks/{path}")))
                .into_response();
        }
        Err(e) => return ApiError(e.into()).into_response(),
    };
    let TriggerSpec::Webhook(spec) = &t.spec else {
        return ApiError(AppError::not_found(format!("no webhook at /hooks/{path}")))
            .into_response();
    };
    if t.paused {
        let mut r = ApiError(AppError::new(
            ErrorCode::Conflict,
            "this webhook is paused; nothing was stored: send it again once it is resumed",
        ))
        .into_response();
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("60"),
        );
        return r;
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let why = "the body is larger than the server's limit; nothing was stored".to_string();
            return refuse(&s, &t, ErrorCode::PayloadTooLarge, why).await;
        }
        Err(e) => return refuse(&s, &t, ErrorCode::BadRequest, e.body_text()).await,
    };
    // the keys, opened only to check this request
    let keys: Vec<String> = [current, previous]
        .into_iter()
        .flatten()
        .filter_map(|sealed| s.sealer.open(&sealed).ok())
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let checked = match &spec.auth {
        WebhookAuth::Hmac { header } => {
            signature::verify(header_str(&headers, header), &keys, &body, now)
        }
        WebhookAuth::Token { header } => {
            signature::verify_token(header_str(&headers, header), &keys)
        }
    };
    if let Err(why) = checked {
        return refuse(&s, &t, ErrorCode::Unauthorized, why).await;
    }
    let body_json: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                let why = format!("the body is not valid JSON: {e}; nothing was stored");
                return refuse(&s, &t, ErrorCode::BadRequest, why).await;
            }
        }
    };
    let request = request_value(spec, body_json, &headers, query.as_deref());
    if s.deliveries
        .listening(&s.db, &t.id, now)
        .await
        .unwrap_or(false)
    {
        let input = map_input(&s, spec, &request).await;
        let (input, input_error) = match input {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        let event = TestEvent {
            at: now,
            request: request.clone(),
            input,
            input_error,
        };
        let caught = match s.deliveries.catch(&s.db, &t.id, &event).await {
            Ok(caught) => caught,
            Err(e) => return ApiError(e).into_response(),
        };
        if caught {
            let answer = respond::TestAnswer {
                test_event: true,
                message: "received as a test event; no run was started".into(),
            };
            return (StatusCode::OK, axum::Json(answer)).into_response();
        }
    }
    match start(&s, &t, spec, &headers, &request, &body, now).await {
        Ok(started) => respond::answer(&s, spec, started).await,
        Err((code, why)) => refuse(&s, &t, code, why).await,
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What the mapping and the delivery-key path read: `{body, headers,
/// query}`, with only the headers the webhook names.
fn request_value(
    spec: &WebhookSpec,
    body: Value,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Value {
    let mut h = Map::new();
    for name in &spec.headers {
        if let Some(v) = header_str(headers, name) {
            h.insert(name.to_ascii_lowercase(), Value::String(v.to_string()));
        }
    }
    let mut q = Map::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()).take(100) {
        q.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    json!({"body": body, "headers": h, "query": q})
}

/// The run input: the mapping's output (evaluated in the sandbox), or the
/// body.
async fn map_input(s: &AppState, spec: &WebhookSpec, request: &Value) -> Result<Value, String> {
    match &spec.mapping {
        None => Ok(request["body"].clone()),
        Some(code) => eval(s, code, request)
            .await
            .map_err(|e| format!("the mapping failed: {e}")),
    }
}

async fn eval(s: &AppState, code: &str, ctx: &Value) -> Result<Value, String> {
    let results = s
        .engine
        .sandbox()
        .run(&Request::over(ctx, vec![Job::jq(code)]))
        .await
        .map_err(|e| match e {
            crate::sandbox::SandboxError::Limit(m)
            | crate::sandbox::SandboxError::Unavailable(m) => m,
        })?;
    results
        .into_iter()
        .next()
        .unwrap_or_else(|| Err("no result".into()))
}

/// What a delivery led to.
pub struct Started {
    pub run_id: String,
    /// The same key came before: this is the first delivery's run.
    pub duplicate: bool,
}

type Refusal = (ErrorCode, String);

async fn start(
    s: &AppState,
    t: &Trigger,
    spec: &WebhookSpec,
    headers: &HeaderMap,
    request: &Value,
    body: &[u8],
    now: i64,
) -> Result<Started, Refusal> {
    let internal = |e: AppError| (e.code, e.message);
    let Some(version) = ops::workflows::published(&s.db, &t.workflow_id)
        .await
        .map_err(internal)?
    else {
        return Err((
            ErrorCode::Conflict,
            "the workflow has no published version, so this webhook cannot start it; publish one in the designer".into(),
        ));
    };
    let runnable = runs::runnable(&s.db, &t.workflow_id, Some(version))
        .await
        .map_err(internal)?;
    let input = map_input(s, spec, request).await.map_err(|why| {
        (
            ErrorCode::InvalidInput,
            format!("{why}; nothing was stored"),
        )
    })?;
    runs::check_input(&runnable.def, &input).map_err(|e| {
        (
            ErrorCode::InvalidInput,
            format!("{}; nothing was stored", e.message),
        )
    })?;
    let key = delivery_key(s, spec, headers, request, body).await?;
    let since = now.saturating_sub(spec.dedup.retention_ms);
    let mut tx = s.db.write().await.map_err(|e| internal(e.into()))?;
    if let Some(key) = &key
        && let Some((_, run_id)) = store::delivery(&mut tx, &t.id, key, since)
            .await
            .map_err(|e| internal(e.into()))?
    {
        // the panel lists it; the key stays with the first delivery
        let event = store::NewEvent {
            trigger_id: &t.id,
            at: now,
            outcome: app::domain::triggers::EventOutcome::Duplicate,
            detail: "the same delivery came before: answered with its run",
            run_id: run_id.as_deref(),
            delivery_key: None,
            nominal_at: None,
        };
        store::insert_event(&mut tx, &event)
            .await
            .map_err(|e| internal(e.into()))?;
        tx.commit()
            .await
            .map_err(|e| internal(StoreError::from(e).into()))?;
        return Ok(Started {
            run_id: run_id.unwrap_or_default(),
            duplicate: true,
        });
    }
    let run_id = runs::start_in(
        &mut tx,
        &t.actor(),
        &runnable,
        &input,
        runs::Via::Webhook(&t.id),
        now,
    )
    .await
    .map_err(|e| internal(e.into()))?;
    let event = store::NewEvent {
        trigger_id: &t.id,
        at: now,
        outcome: app::domain::triggers::EventOutcome::Started,
        detail: "",
        run_id: Some(&run_id),
        delivery_key: key.as_deref(),
        nominal_at: None,
    };
    store::insert_event(&mut tx, &event)
        .await
        .map_err(|e| internal(e.into()))?;
    tx.commit()
        .await
        .map_err(|e| internal(StoreError::from(e).into()))?;
    s.engine.wake();
    Ok(Started {
        run_id: run_id.to_string(),
        duplicate: false,
    })
}

/// The delivery's key: the named header (default `Idempotency-Key`), the
/// value at the jq path, or, for a signed request without either, its
/// signature (a replay within the window is then the same delivery).
async fn delivery_key(
    s: &AppState,
    spec: &WebhookSpec,
    headers: &HeaderMap,
    request: &Value,
    body: &[u8],
) -> Result<Option<String>, Refusal> {
    const MAX_KEY: usize = 500;
    let key = if let Some(path) = &spec.dedup.path {
        match eval(s, path, request).await {
            Ok(Value::Null) => None,
            Ok(Value::String(k)) => Some(k),
            Ok(v @ Value::Number(_)) => Some(v.to_string()),
            Ok(other) => {
                return Err((
                    ErrorCode::InvalidInput,
                    format!(
                        "dedup.path gave {}, not a string or number; nothing was stored",
                        app::domain::limits::clip(&other.to_string(), 60)
                    ),
                ));
            }
            Err(e) => {
                return Err((
                    ErrorCode::InvalidInput,
                    format!("dedup.path failed: {e}; nothing was stored"),
                ));
            }
        }
    } else {
        let name = spec
            .dedup
            .header
            .as_deref()
            .unwrap_or(app::domain::triggers::DEFAULT_KEY_HEADER);
        header_str(headers, name).map(str::to_string)
    };
    let key = match (key, &spec.auth) {
        (Some(k), _) => Some(format!("key:{k}")),
        (None, WebhookAuth::Hmac { header }) => header_str(headers, header).map(|h| {
            use sha2::Digest;
            let mut d = sha2::Sha256::new();
            d.update(h.as_bytes());
            d.update(body);
            format!("sig:{}", hex::encode(d.finalize()))
        }),
        (None, WebhookAuth::Token { .. }) => None,
    };
    match key {
        Some(k) if k.len() > MAX_KEY => Err((
            ErrorCode::BadRequest,
            format!("the delivery key is longer than {MAX_KEY} characters; nothing was stored"),
        )),
        k => Ok(k),
    }
}
