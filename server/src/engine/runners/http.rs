//! Calls an HTTP endpoint. Every attempt of a step sends the same
//! `Idempotency-Key`, so a receiver can drop duplicates when a retry or a
//! crash recovery repeats a request that had in fact arrived.

use super::{Attempt, Outcome};
use app::domain::expr::render_template;
use app::domain::graph::{ErrorClass, HttpRequest};
use app::domain::redact::{redact, redact_str};
use serde_json::{Value, json};

pub fn idempotency_key(run_id: &str, node_id: &str) -> String {
    format!("{run_id}:{node_id}")
}

/// Calls the endpoint; whatever comes back (output or error) has the
/// secrets' values masked before anyone stores or shows it.
pub async fn run(a: &Attempt<'_>, r: &HttpRequest, response_schema: Option<&Value>) -> Outcome {
    let values: Vec<&str> = a.secrets.values().map(String::as_str).collect();
    match call(a, r, response_schema).await {
        Outcome::Done {
            mut output,
            confidence,
            port,
        } => {
            redact(&mut output, &values);
            Outcome::Done {
                output,
                confidence,
                port,
            }
        }
        Outcome::Failed { class, message } => Outcome::Failed {
            class,
            message: redact_str(&message, &values),
        },
        parked => parked,
    }
}

async fn call(a: &Attempt<'_>, r: &HttpRequest, response_schema: Option<&Value>) -> Outcome {
    // templates see the run context plus `secrets`
    let mut ctx = a.context.clone();
    if !a.secrets.is_empty()
        && let Value::Object(map) = &mut ctx
    {
        map.insert("secrets".into(), json!(a.secrets));
    }
    let render = |what: &str, src: &str| {
        render_template(src, &ctx)
            .map_err(|e| Outcome::fail(ErrorClass::Format, format!("{what}: {e}")))
    };
    let url = match render("URL", &r.url) {
        Ok(u) => u,
        Err(o) => return o,
    };
    let method = match reqwest::Method::from_bytes(r.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => {
            return Outcome::fail(ErrorClass::Business, format!("unknown method {}", r.method));
        }
    };
    let mut req = a
        .http
        .request(method, &url)
        .header("Idempotency-Key", idempotency_key(a.run_id, a.step_id));
    for (name, value) in &r.headers {
        match render(&format!("header '{name}'"), value) {
            Ok(v) => req = req.header(name, v),
            Err(o) => return o,
        }
    }
    if let Some(body) = &r.body {
        match render("body", body) {
            Ok(b) => req = req.body(b),
            Err(o) => return o,
        }
    }
    let res = match req.send().await {
        Ok(res) => res,
        Err(e) => {
            let what = if e.is_timeout() {
                "timed out"
            } else {
                "could not connect"
            };
            return Outcome::fail(ErrorClass::Transient, format!("{what}: {url}: {e}"));
        }
    };
    let status = res.status();
    let text = match res.text().await {
        Ok(t) => t,
        Err(e) => {
            return Outcome::fail(
                ErrorClass::Transient,
                format!("reading the response failed: {e}"),
            );
        }
    };
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        return Outcome::fail(ErrorClass::Transient, format!("{url} answered {status}"));
    }
    if status.is_client_error() {
        return Outcome::fail(
            ErrorClass::Business,
            format!("{url} answered {status}: {}", short(&body)),
        );
    }
    if let Some(schema) = response_schema
        && let Err(problems) = app::schema::check(schema, &body)
    {
        return Outcome::fail(
            ErrorClass::Format,
            format!(
                "the response does not match the expected schema: {}",
                problems.join("; ")
            ),
        );
    }
    Outcome::out(json!({"status": status.as_u16(), "body": body}))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s
    }
}
