//! Calls an HTTP endpoint. Every attempt of a step sends the same
//! `Idempotency-Key`, so a receiver can drop duplicates when a retry or a
//! crash recovery repeats a request that had in fact arrived.
//!
//! What goes out is guarded: the templates render in the sandbox, every
//! address (and every redirect hop) passes the outbound policy, a secret
//! goes only to the hosts it lists, a redirect to another host drops the
//! credentials, and the response is read up to a cap. Messages show the
//! request as rendered with `[secret]` in place of every secret, never the
//! real URL.

use super::request::{fail, render};
use super::{Attempt, Outcome};
use crate::outbound::{check_url, refusal};
use app::domain::graph::{ErrorClass, HttpRequest};
use app::domain::redact::variants;
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 10;

/// Calls the endpoint; whatever comes back (output or error) has the
/// secrets' values masked before anyone stores or shows it.
pub async fn run(a: &Attempt<'_>, r: &HttpRequest, response_schema: Option<&Value>) -> Outcome {
    let values: Vec<String> = a
        .secrets
        .values()
        .flat_map(|s| variants(&s.value))
        .collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    call(a, r, response_schema).await.masked(&values)
}

/// Host and port, as a secret's hosts and the messages name them.
fn host_of(url: &Url) -> (String, Option<u16>) {
    (
        url.host_str().unwrap_or("").to_string(),
        url.port_or_known_default(),
    )
}

async fn call(a: &Attempt<'_>, r: &HttpRequest, response_schema: Option<&Value>) -> Outcome {
    let rendered = match render(a, r).await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let Ok(mut method) = Method::from_bytes(r.method.as_bytes()) else {
        return fail(ErrorClass::Business, format!("unknown method {}", r.method));
    };
    let origin = host_of(&rendered.url);
    for (name, s) in a.secrets.iter() {
        if !s.hosts.admits(&origin.0, None, origin.1) {
            let shown_host = &rendered.shown_host;
            return fail(
                ErrorClass::Business,
                format!(
                    "the secret {name} may not be sent to {shown_host}; add the host to the secret's allowed hosts (Settings → Secrets)"
                ),
            );
        }
    }
    let mut url = rendered.url.clone();
    let mut shown = rendered.shown_url.clone();
    let mut body = rendered.body.clone();
    let mut hops = 0;
    let res = loop {
        if let Err(why) = check_url(&url, &a.outbound.allowed).await {
            return fail(ErrorClass::Business, format!("{shown}: {why}"));
        }
        let same_origin = host_of(&url) == origin && url.scheme() == rendered.url.scheme();
        let mut req = a
            .outbound
            .client
            .request(method.clone(), url.clone())
            .header(
                "Idempotency-Key",
                app::domain::records::idempotency_key(a.run_id, a.step_id, a.item, a.pass),
            );
        for (name, value, has_secret) in &rendered.headers {
            let credential = *has_secret
                || [
                    reqwest::header::AUTHORIZATION,
                    reqwest::header::COOKIE,
                    reqwest::header::PROXY_AUTHORIZATION,
                ]
                .contains(name);
            if same_origin || !credential {
                req = req.header(name, value);
            }
        }
        if let Some(b) = &body {
            req = req.body(b.clone());
        }
        let res = match req.send().await {
            Ok(res) => res,
            Err(e) => {
                if let Some(why) = refusal(&e) {
                    return fail(ErrorClass::Business, format!("{shown}: {why}"));
                }
                let what = if e.is_timeout() {
                    "timed out"
                } else {
                    "could not connect"
                };
                return fail(
                    ErrorClass::Transient,
                    format!("{what}: {shown}: {}", describe(e)),
                );
            }
        };
        let status = res.status();
        let location = res
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_string);
        let Some(location) = location.filter(|_| status.is_redirection()) else {
            break res;
        };
        hops += 1;
        if hops > MAX_REDIRECTS {
            return fail(
                ErrorClass::Business,
                format!("{shown}: more than {MAX_REDIRECTS} redirects"),
            );
        }
        let Ok(next) = url.join(&location) else {
            return fail(
                ErrorClass::Format,
                format!("{shown} redirected to an invalid location"),
            );
        };
        if status == StatusCode::SEE_OTHER
            || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                && method == Method::POST)
        {
            method = Method::GET;
            body = None;
        }
        let leaves = host_of(&next) != origin || next.scheme() != rendered.url.scheme();
        if leaves && body.is_some() && rendered.body_has_secret {
            return fail(
                ErrorClass::Business,
                format!(
                    "{shown} redirected to another host ({}), and the body carries a secret: not followed",
                    next.host_str().unwrap_or("")
                ),
            );
        }
        url = next;
        shown = url.to_string();
    };
    let status = res.status();
    let wait = retry_after(res.headers());
    let body = match read_capped(res, a.outbound.max_response_bytes).await {
        Ok(b) => b,
        Err(o) => return o,
    };
    let text = String::from_utf8_lossy(&body);
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.into_owned()));
    if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        return Outcome::Failed {
            class: ErrorClass::Transient,
            message: format!("{shown} answered {status}"),
            retry_after_ms: wait,
        };
    }
    if status.is_client_error() {
        return fail(
            ErrorClass::Business,
            format!("{shown} answered {status}: {}", short(&body)),
        );
    }
    if let Some(schema) = response_schema
        && let Err(problems) = app::schema::check(schema, &body)
    {
        return fail(
            ErrorClass::Format,
            format!(
                "the response does not match the expected schema: {}",
                problems.join("; ")
            ),
        );
    }
    Outcome::out(json!({"status": status.as_u16(), "body": body}))
}

/// How long a server asked us to wait (`Retry-After`: seconds, or an HTTP
/// date), in milliseconds from now.
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .map_or(0, |d| d.as_millis() as u64),
    )
}

/// The body, refused past `max` bytes whatever the server claims.
pub(super) async fn read_capped(
    mut res: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, Outcome> {
    let too_large = |n: String| {
        fail(
            ErrorClass::Format,
            format!(
                "the response is larger than the limit of {} KB ({n}); raise --max-response-bytes if this is intended",
                max / 1024
            ),
        )
    };
    if let Some(len) = res.content_length()
        && len > max as u64
    {
        return Err(too_large(format!("{} KB announced", len / 1024)));
    }
    let mut body = Vec::new();
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(too_large("cut off while reading".into()));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(fail(
                    ErrorClass::Transient,
                    format!("reading the response failed: {}", describe(e)),
                ));
            }
        }
    }
}

/// The client's error and its causes, without the URL (which may carry a
/// secret): "error sending request: client error (Connect): tcp connect
/// error: Connection refused (os error 111)".
pub(super) fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s
    }
}
