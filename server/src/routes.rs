//! The HTTP router: UI pages and server functions (Leptos), REST API v1,
//! health checks and static files.

use crate::engine::Engine;
use crate::rest;
use app::store::Db;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
    /// Woken when a request creates work for the engine.
    pub engine: Arc<Engine>,
    /// Seals and opens secrets.
    pub sealer: app::security::Sealer,
    /// Session cookies only over HTTPS (set when served behind TLS).
    pub secure_cookies: bool,
    /// Serve the stand-in services under `/demo`.
    pub demo: bool,
    /// The content hashes in the front end's file names (for caching).
    pub hashes: crate::assets::Hashes,
    /// Refused webhook deliveries and test-event listeners.
    pub deliveries: app::ops::triggers::Deliveries,
    /// Who may read `/metrics`.
    pub metrics: crate::metrics::Access,
}

impl AppState {
    /// A schedule was added or changed: the scheduler looks again now.
    pub fn scheduler_changed(&self) {
        self.engine.schedules_changed();
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(s: &AppState) -> Self {
        s.db.clone()
    }
}

pub fn router(
    state: AppState,
    sessions: crate::sessions::Sessions,
    max_body_bytes: usize,
) -> Router {
    let routes = generate_route_list(app::App);
    let db = state.db.clone();
    let engine = state.engine.clone();
    let sealer = state.sealer.clone();
    let deliveries = state.deliveries.clone();
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(crate::auth::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::days(7),
        ));
    let options = state.leptos_options.clone();
    let demo = if state.demo {
        Router::new()
            .route("/demo/ledger/entries", axum::routing::post(demo_ledger))
            .route("/demo/flaky", axum::routing::post(demo_flaky))
            .route(
                "/demo/v1/chat/completions",
                axum::routing::post(crate::demo_model::chat),
            )
            // small bodies only: the stand-ins echo what they are sent
            .layer(axum::extract::DefaultBodyLimit::max(DEMO_MAX_BODY))
    } else {
        Router::new()
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(demo)
        .route("/events", get(events))
        .route("/metrics", get(crate::rest_metrics::scrape))
        .nest("/api/v1", rest::routes(max_body_bytes))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(db.clone());
                provide_context(engine.wakeup());
                provide_context(sealer.clone());
                provide_context(engine.changes());
                provide_context(app::ops::step_test::Tester(engine.clone()));
                provide_context(app::ops::golden::Judge(engine.clone()));
                provide_context(deliveries.clone());
                provide_context(app::api::reference::ApiDoc(crate::openapi::doc()));
            },
            move || app::shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ))
        .layer(session_layer)
        // webhooks answer to their own secret, not to sessions or API
        // tokens (a sender's `Authorization` header is its own business)
        .merge(crate::hooks::routes())
        // counted per route template (only requests that matched a route:
        // a scan of made-up paths adds no series)
        .route_layer(axum::middleware::from_fn(crate::rest_metrics::track))
        .layer(axum::middleware::from_fn_with_state(
            state.hashes.clone(),
            crate::assets::caching,
        ))
        // pages and API answers compressed for clients that accept it (a
        // large workflow's designer page is hundreds of KB of JSON); the
        // front-end files are already (precompressed) and the event stream
        // is left alone (tower-http's default predicate skips both)
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied.
async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    let (started, live) = s.engine.workers();
    if live < started {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{live} of {started} engine workers are running"),
        )
            .into_response();
    }
    match s.db.migrations_applied().await {
        Ok(true) => (StatusCode::OK, "ready").into_response(),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// A stand-in ledger so the example workflow runs end to end on a fresh
/// install: it records nothing and answers with an entry id derived from the
/// idempotency key (the same key gets the same id, as a real ledger would).
async fn demo_ledger(headers: axum::http::HeaderMap, body: axum::body::Bytes) -> impl IntoResponse {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_string();
    let entry: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    axum::Json(serde_json::json!({"entry_id": format!("demo-{key}"), "entry": entry}))
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    /// Comma-separated: `approvals`, `run:<id>`.
    #[serde(default = "approvals_topic")]
    topics: String,
}

fn approvals_topic() -> String {
    "approvals".into()
}

/// Server-sent events for open pages: `approvals` when an approval item
/// appears or is decided, `run` when the run named in `topics` moved on.
/// Signed-in callers only (the middleware sends others to sign in).
async fn events(
    State(s): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<EventsQuery>,
) -> impl IntoResponse {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let wanted: Vec<String> = q.topics.split(',').map(|t| t.trim().to_string()).collect();
    let rx = s.engine.changes().subscribe();
    let stream = futures_util::stream::unfold((rx, wanted), |(mut rx, wanted)| async move {
        loop {
            let topic: std::sync::Arc<str> = match rx.recv().await {
                Ok(topic) => topic,
                // missed some: tell every listener once, pages reload
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    wanted[0].as_str().into()
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            };
            if *topic == *app::ops::CLOSING {
                return None;
            }
            if wanted.iter().any(|w| **w == *topic) {
                let name = topic.split(':').next().unwrap_or("change").to_string();
                let e = Event::default().event(name).data("changed");
                return Some((Ok::<_, std::convert::Infallible>(e), (rx, wanted)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Largest body the stand-in services accept.
const DEMO_MAX_BODY: usize = 64 * 1024;
/// Keys the flaky stand-in remembers; past this it forgets them all (and a
/// remembered key answers 200 again), so its memory stays bounded.
const DEMO_MAX_KEYS: usize = 10_000;

/// A stand-in for an unreliable service, to see retries at work: the first
/// call with a given idempotency key answers 503, the next ones 200.
async fn demo_flaky(headers: axum::http::HeaderMap) -> impl IntoResponse {
    static SEEN: std::sync::Mutex<Option<std::collections::HashSet<String>>> =
        std::sync::Mutex::new(None);
    let key: String = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .chars()
        .take(200)
        .collect();
    let first = SEEN
        .lock()
        .map(|mut s| {
            let seen = s.get_or_insert_with(Default::default);
            if seen.len() >= DEMO_MAX_KEYS {
                seen.clear();
            }
            seen.insert(key.clone())
        })
        .unwrap_or(false);
    if first {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"error": "try again"})),
        )
            .into_response()
    } else {
        axum::Json(serde_json::json!({"ok": true, "key": key})).into_response()
    }
}
