//! Checks real answers against the server's OpenAPI document: the REST
//! and webhook tests pass every answer through [`check`], so a handler
//! that answers something its description does not allow fails them.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// The operation of `doc` that `method path` is (path parameters match any
/// segment; `/hooks/{path}` matches the rest of the path).
fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> Option<(&'a str, &'a Value)> {
    let path = path.split('?').next().unwrap_or_default();
    let got: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .iter()
        .find_map(|(template, item)| {
            let want: Vec<&str> = template.split('/').collect();
            let hook = template == "/hooks/{path}" && path.starts_with("/hooks/") && path.len() > 7;
            let same = hook
                || (want.len() == got.len()
                    && want
                        .iter()
                        .zip(&got)
                        .all(|(w, g)| (w.starts_with('{') && !g.is_empty()) || w == g));
            let op = item.get(method.to_ascii_lowercase())?;
            same.then_some((template.as_str(), op))
        })
}

type Cache = HashMap<(String, String, u16), Option<Arc<jsonschema::Validator>>>;

/// Fails (with what is wrong) unless `status` and `body` (sent as
/// `content_type`) are what the document says `method path` answers.
pub fn check(method: &str, path: &str, status: u16, content_type: &str, body: &Value) {
    static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Default::default);
    let doc = server::openapi::doc();
    let Some((template, op)) = operation(&doc, method, path) else {
        // not an operation: only "no such route" or "wrong method" may come back
        assert!(
            status == 404 || status == 405,
            "{method} {path} is not in the OpenAPI document, yet answered {status}: {body}"
        );
        return;
    };
    let Some(response) = op["responses"].get(status.to_string()) else {
        panic!("{method} {template} answered {status}, which the document does not list: {body}");
    };
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if status == 204 || (media.is_empty() && body.is_null()) {
        assert!(
            response.get("content").is_none(),
            "{method} {template} {status}: the document promises a body, none came"
        );
        return;
    }
    let Some(content) = response.get("content").and_then(|c| c.get(media)) else {
        panic!(
            "{method} {template} answered {status} as '{media}', which the document does not list: {body}"
        );
    };
    if media != "application/json" {
        return;
    }
    let key = (method.to_string(), template.to_string(), status);
    let validator = {
        let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| {
                let root = json!({"components": doc["components"], "allOf": [content["schema"]]});
                jsonschema::draft202012::new(&root).ok().map(Arc::new)
            })
            .clone()
            .expect("the document's schemas compile")
    };
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} with a body its description does not allow:\n{}\n{body}",
        errors.join("\n")
    );
}
