//! Rendering an Http step's request: which secrets its templates name, and
//! its URL, headers and body rendered in the sandbox twice — with the
//! secrets' values (sent) and with `[secret]` in their place (shown).

use super::{Attempt, Outcome};
use crate::sandbox::{Job, Request};
use app::domain::graph::{ErrorClass, HttpRequest};
use app::domain::redact::MASK;
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};
use std::borrow::Cow;

/// Names of the secrets `src` refers to literally (`secrets.NAME`,
/// `secrets["NAME"]`): the only ones its step may use.
pub fn secret_names(src: &str) -> Vec<String> {
    let mut names = vec![];
    let mut rest = src;
    while let Some(at) = rest.find("secrets") {
        // `input.secrets.X` is data, not the secrets
        let inside_name = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c == '.' || c == '_' || c.is_ascii_alphanumeric());
        rest = &rest[at + "secrets".len()..];
        if inside_name {
            continue;
        }
        let after = rest
            .strip_prefix('.')
            .or_else(|| rest.strip_prefix("[\"").or_else(|| rest.strip_prefix("['")));
        if let Some(tail) = after {
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// Every secret the request's templates name.
pub fn request_secret_names(r: &HttpRequest) -> Vec<String> {
    let mut names = secret_names(&r.url);
    for v in r.headers.values() {
        names.extend(secret_names(v));
    }
    if let Some(b) = &r.body {
        names.extend(secret_names(b));
    }
    names.sort();
    names.dedup();
    names
}

/// The request as rendered: once with the secrets' values (sent), once with
/// `[secret]` in their place (shown).
pub(super) struct Rendered {
    pub(super) url: Url,
    pub(super) shown_url: String,
    /// The host as shown (`[secret]` if a secret names it).
    pub(super) shown_host: String,
    pub(super) headers: Vec<(HeaderName, HeaderValue, bool)>,
    pub(super) body: Option<String>,
    pub(super) body_has_secret: bool,
}

pub(super) fn fail(class: ErrorClass, message: impl Into<String>) -> Outcome {
    Outcome::fail(class, message)
}

pub(super) async fn render(a: &Attempt<'_>, r: &HttpRequest) -> Result<Rendered, Outcome> {
    let named = request_secret_names(r);
    let mut real = serde_json::Map::new();
    let mut shown = serde_json::Map::new();
    for name in &named {
        let Some(s) = a.secrets.get(name) else {
            return Err(fail(
                ErrorClass::Business,
                format!("there is no secret named {name} (Settings → Secrets)"),
            ));
        };
        real.insert(name.clone(), json!(s.value));
        shown.insert(name.clone(), json!(MASK));
    }
    let with = |secrets| {
        let mut ctx = a.context.clone();
        if let Value::Object(map) = &mut ctx {
            map.insert("secrets".into(), Value::Object(secrets));
        }
        ctx
    };
    let mut jobs = vec![Job::template(&r.url), Job::template(&r.url).over(1)];
    jobs.extend(r.headers.values().map(|v| Job::template(v)));
    jobs.extend(r.body.iter().map(|b| Job::template(b)));
    let req = Request {
        ctxs: vec![Cow::Owned(with(real)), Cow::Owned(with(shown))],
        jobs,
        chain: vec![],
    };
    let results = a.sandbox.run(&req).await.map_err(super::sandbox_failure)?;
    let mut results = results.into_iter();
    let mut next = |what: &str| -> Result<String, Outcome> {
        match results.next() {
            Some(Ok(Value::String(s))) => Ok(s),
            Some(Ok(other)) => Ok(other.to_string()),
            Some(Err(e)) => Err(fail(ErrorClass::Format, format!("{what}: {e}"))),
            None => Err(fail(
                ErrorClass::Transient,
                "the sandbox answered too few results",
            )),
        }
    };
    let url_text = next("URL")?;
    let shown_url = next("URL")?;
    let url = Url::parse(url_text.trim()).map_err(|e| {
        fail(
            ErrorClass::Format,
            format!("the URL {shown_url} is not valid: {e}"),
        )
    })?;
    let mut headers = vec![];
    for (name, template) in &r.headers {
        let value = next(&format!("header '{name}'"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            fail(
                ErrorClass::Format,
                format!("'{name}' is not a valid header name"),
            )
        })?;
        let value = HeaderValue::from_str(&value).map_err(|_| {
            fail(
                ErrorClass::Format,
                format!("header '{name}': the value has characters a header cannot carry"),
            )
        })?;
        headers.push((name, value, !secret_names(template).is_empty()));
    }
    let body = match &r.body {
        Some(_) => Some(next("body")?),
        None => None,
    };
    let shown_host = Url::parse(&shown_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| url.host_str().unwrap_or("").to_string());
    Ok(Rendered {
        url,
        shown_host,
        shown_url,
        headers,
        body,
        body_has_secret: r
            .body
            .as_deref()
            .is_some_and(|b| !secret_names(b).is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_the_literal_references() {
        assert_eq!(
            secret_names(
                "Bearer {{ secrets.API_KEY }} {{ secrets['OTHER'] }} {{ secrets[\"THIRD\"] | reverse }} {{ secrets.API_KEY }}"
            ),
            vec!["API_KEY", "OTHER", "THIRD"]
        );
        assert!(secret_names("{{ secrets[input.name] }} {{ input.secrets }} {{ input.secrets.X }} {{ my_secrets.Y }}").is_empty());
    }
}
