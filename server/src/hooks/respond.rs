//! How a delivery is answered: at once (202 and where to look), or, for a
//! synchronous webhook, when its run ends (200 with the output), waits for
//! a person (202 at once, saying so), or the timeout passes (202, as
//! asynchronous: the sender never waits on a hung connection).

use super::Started;
use crate::rest::ApiError;
use crate::routes::AppState;
use app::domain::run::RunStatus;
use app::domain::triggers::{ResponseMode, WebhookSpec};
use app::store::StoreError;
use app::store::runs::{Brief, brief};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// What a delivery is answered with (besides errors).
#[derive(Serialize, schemars::JsonSchema, Default)]
pub struct HookAnswer {
    pub run_id: String,
    /// Where the run can be followed through the API.
    pub status_url: String,
    /// Where a person sees it.
    pub run_url: String,
    /// `running`, `waiting_for_people`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// The run's output, once it ended with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The same delivery came before: this is the first one's run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A delivery taken as a test event (someone was listening): no run.
#[derive(Serialize, schemars::JsonSchema)]
pub struct TestAnswer {
    pub test_event: bool,
    pub message: String,
}

pub async fn answer(s: &AppState, spec: &WebhookSpec, started: Started) -> Response {
    let timeout = match spec.response {
        ResponseMode::Sync { timeout_ms } if !started.duplicate => Some(timeout_ms),
        _ => None,
    };
    let Some(timeout_ms) = timeout else {
        let mut body = links(&started.run_id);
        if started.duplicate {
            if let Ok(b) = look(s, &started.run_id).await {
                body = described(&started.run_id, &b);
            }
            body.duplicate = true;
            return with_location(StatusCode::OK, body, &started.run_id);
        }
        return with_location(StatusCode::ACCEPTED, body, &started.run_id);
    };
    match wait(s, &started.run_id, Duration::from_millis(timeout_ms)).await {
        Ok(Some(b)) if b.status != RunStatus::Running => {
            (StatusCode::OK, axum::Json(described(&started.run_id, &b))).into_response()
        }
        Ok(Some(b)) => with_location(
            StatusCode::ACCEPTED,
            described(&started.run_id, &b),
            &started.run_id,
        ),
        Ok(None) => {
            let mut body = links(&started.run_id);
            body.message = Some(format!(
                "the run did not end within {timeout_ms} ms; follow status_url"
            ));
            with_location(StatusCode::ACCEPTED, body, &started.run_id)
        }
        Err(e) => ApiError(e.into()).into_response(),
    }
}

fn links(run_id: &str) -> HookAnswer {
    HookAnswer {
        run_id: run_id.to_string(),
        status_url: format!("/api/v1/runs/{run_id}"),
        run_url: format!("/runs/{run_id}"),
        status: "running".into(),
        ..Default::default()
    }
}

fn described(run_id: &str, b: &Brief) -> HookAnswer {
    let mut body = links(run_id);
    if b.status == RunStatus::Running && b.awaiting_people {
        body.status = "waiting_for_people".into();
        body.message = Some("the run waits for a person to decide; follow status_url".into());
    } else {
        body.status = b.status.as_str().into();
    }
    body.output = b.output.clone();
    body.error = b.error.clone();
    body
}

fn with_location(status: StatusCode, body: HookAnswer, run_id: &str) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/runs/{run_id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn look(s: &AppState, run_id: &str) -> Result<Brief, StoreError> {
    let mut conn = s.db.acquire().await?;
    brief(&mut conn, run_id).await
}

/// The run once it ended or waits for people; None when `limit` passed.
async fn wait(s: &AppState, run_id: &str, limit: Duration) -> Result<Option<Brief>, StoreError> {
    s.engine
        .wait_for_run(run_id, limit, |b| {
            b.status != RunStatus::Running || b.awaiting_people
        })
        .await
}
