//! Who is asking, for every request: an API token (`Authorization: Bearer`)
//! or the session cookie. Also refuses cross-site state changes and sends
//! people who are not signed in to the sign-in page (or, on a new
//! instance, to create the owner account).

use crate::rest::ApiError;
use crate::routes::AppState;
use app::api::Caller;
use app::api::accounts::SESSION_USER;
use app::error::{AppError, ErrorCode};
use app::ops::{self, accounts};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

pub const SESSION_COOKIE: &str = "stepwise_session";

/// Paths anyone may reach.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz"
            | "/readyz"
            | "/login"
            | "/setup"
            | "/favicon.svg"
            | "/favicon.ico"
            | "/demo/ledger/entries"
            | "/demo/flaky"
            | "/demo/v1/chat/completions"
            | "/api/v1/openapi.json"
            | "/api"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/rpc/")
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.split(';').any(|kv| kv.trim().starts_with(SESSION_COOKIE)))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// Whether a request that changes something came from this site: its
/// Origin (or, without one, its Referer) names the host it was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let from = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(from) = from else {
        return false;
    };
    let rest = from
        .strip_prefix("https://")
        .or_else(|| from.strip_prefix("http://"))
        .unwrap_or("");
    rest.split('/').next() == Some(host)
}

pub async fn authenticate(
    State(s): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let token = bearer(headers).map(str::to_string);
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // A browser adds the session cookie to requests other sites make it
    // send; a token it never adds by itself. So a change that rides on the
    // cookie (and every sign-in) must come from a page of this site.
    let rides_on_cookie =
        token.is_none() && (has_session_cookie(headers) || req.uri().path().starts_with("/rpc/"));
    if unsafe_method && rides_on_cookie && !same_origin(headers) {
        return ApiError(AppError::new(
            ErrorCode::Forbidden,
            "cross-site request refused: a change sent with the session cookie must come from a page of this site (Origin header)",
        ))
        .into_response();
    }
    let caller = match token {
        Some(t) => match accounts::token_principal(&s.db, &t, ops::now_ms()).await {
            Ok(Some(p)) => Some(p),
            Ok(None) => {
                return ApiError(AppError::new(
                    ErrorCode::Unauthorized,
                    "this API token is unknown or was revoked; create a new one under Settings → API tokens",
                ))
                .into_response();
            }
            Err(e) => return ApiError(e).into_response(),
        },
        None => match session.get::<String>(SESSION_USER).await {
            Ok(Some(id)) => match accounts::user_principal(&s.db, &id).await {
                Ok(p) => p,
                Err(e) => return ApiError(e).into_response(),
            },
            _ => None,
        },
    };
    let path = req.uri().path().to_string();
    // a scraper is answered like an API client; public or off, the
    // handler says so
    let metrics = path == "/metrics";
    let open_metrics = metrics && s.metrics != crate::metrics::Access::Token;
    if caller.is_none() && !is_public(&path) && !open_metrics {
        if path.starts_with("/api/") || metrics {
            return ApiError(AppError::unauthorized()).into_response();
        }
        // a page: sign in first, then come back
        let setup = accounts::needs_setup(&s.db).await.unwrap_or(false);
        let to = if setup {
            "/setup".to_string()
        } else {
            let back = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            format!(
                "/login?next={}",
                percent_encoding::utf8_percent_encode(&back, percent_encoding::NON_ALPHANUMERIC)
            )
        };
        return Redirect::to(&to).into_response();
    }
    req.extensions_mut().insert(Caller(caller));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origin_must_name_the_host() {
        let host = (header::HOST, "127.0.0.1:3000");
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3000")
        ])));
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::REFERER, "https://127.0.0.1:3000/workflows")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3000.evil.example")
        ])));
        assert!(
            !same_origin(&headers(std::slice::from_ref(&host))),
            "no origin at all is refused"
        );
        assert_eq!(
            bearer(&headers(&[(header::AUTHORIZATION, "Bearer swt_x")])),
            Some("swt_x")
        );
    }
}
