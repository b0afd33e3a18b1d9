//! `GET /api/v1/openapi.json`: an OpenAPI 3.1 document of the whole HTTP
//! API, built from [`table::operations`] (which the router is built from
//! too) and the JSON Schemas of the handlers' own request and response
//! types (`schemars`, following their serde attributes). Request bodies
//! are described as they are read (`...Input` schemas: defaults may be
//! left out), answers as they are written.

mod ops_core;
mod ops_golden;
mod ops_models;
mod ops_monitoring;
mod ops_more;
pub mod table;

use crate::routes::AppState;
use axum::Router;
use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value, json};
use std::sync::{Arc, LazyLock};
use table::Op;

/// Where component schemas live, as JSON pointer and as `$ref` prefix.
const DEFS: &str = "/components/schemas";
/// Request schemas are named `<Type>Input` (they may differ from answers:
/// a field with a default is optional there).
const INPUT_SUFFIX: &str = "Input";

/// The REST routes (under `/api/v1`) and the webhook route, from the table.
pub fn api_routes() -> Router<AppState> {
    let mut r = Router::new();
    for op in table::operations() {
        if let Some(rest) = op.path.strip_prefix("/api/v1") {
            r = r.route(rest, (op.route)());
        }
    }
    r
}

pub fn hook_routes() -> Router<AppState> {
    let mut r = Router::new();
    for op in table::operations() {
        if op.path.starts_with("/hooks/") {
            // the OpenAPI `{path}` is a wildcard for the router
            r = r.route("/hooks/{*path}", (op.route)());
        }
    }
    r
}

/// The document (built once).
pub fn doc() -> Arc<Value> {
    static DOC: LazyLock<Arc<Value>> = LazyLock::new(|| Arc::new(build()));
    DOC.clone()
}

pub async fn document() -> axum::Json<Value> {
    axum::Json((*doc()).clone())
}

fn generator(contract: Contract) -> schemars::SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = DEFS.into();
    settings.meta_schema = None;
    settings.contract = contract;
    settings.into_generator()
}

fn build() -> Value {
    let mut out_gen = generator(Contract::Serialize);
    let mut in_gen = generator(Contract::Deserialize);
    let mut paths = Map::new();
    for op in table::operations() {
        let item = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        item[op.method] = operation(&op, &mut out_gen, &mut in_gen);
    }
    let mut schemas = out_gen.take_definitions(true);
    let inputs = in_gen.take_definitions(true);
    let differ: std::collections::BTreeSet<String> = differing(&schemas, &inputs)
        .into_iter()
        .filter(|n| schemas.contains_key(n))
        .collect();
    for (name, schema) in inputs {
        if differ.contains(&name) {
            schemas.insert(
                format!("{name}{INPUT_SUFFIX}"),
                renamed_refs(schema, &differ),
            );
        } else {
            schemas
                .entry(name)
                .or_insert_with(|| renamed_refs(schema, &differ));
        }
    }
    // request bodies and parameters point at the `...Input` names
    for item in paths.values_mut() {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            for key in ["requestBody", "parameters"] {
                if let Some(v) = op.get_mut(key) {
                    *v = renamed_refs(v.take(), &differ);
                }
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Stepwise API",
            "version": "1",
            "description": "REST API v1 of Stepwise and its webhook deliveries. Every /api/v1 route but this document needs an API token (`Authorization: Bearer swt_...`) or a signed-in session. Errors are `{\"error\": {\"code\", \"message\", \"problems\"?}}`; the message says what to fix.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "An API token (`swt_...`), created under Settings or with `stepwise token create`."},
            },
        },
        "security": [{"token": []}],
        "paths": paths,
    })
}

/// The types whose schema as read differs from their schema as written
/// (their own, or one they refer to); those also written get an
/// `...Input` twin.
fn differing(
    out: &Map<String, Value>,
    inp: &Map<String, Value>,
) -> std::collections::BTreeSet<String> {
    let mut differ: std::collections::BTreeSet<String> = inp
        .iter()
        .filter(|(name, schema)| out.get(*name).is_some_and(|o| o != *schema))
        .map(|(name, _)| name.clone())
        .collect();
    loop {
        let more: Vec<String> = inp
            .iter()
            .filter(|(name, schema)| !differ.contains(*name) && refers_to_any(schema, &differ))
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            return differ;
        }
        differ.extend(more);
    }
}

fn refers_to_any(v: &Value, names: &std::collections::BTreeSet<String>) -> bool {
    match v {
        Value::Object(m) => {
            m.get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(&format!("#{DEFS}/")))
                .is_some_and(|n| names.contains(n))
                || m.values().any(|x| refers_to_any(x, names))
        }
        Value::Array(a) => a.iter().any(|x| refers_to_any(x, names)),
        _ => false,
    }
}

/// `$ref`s of a request-side schema to a type in `differ`, pointed at its
/// `...Input` twin.
fn renamed_refs(mut v: Value, differ: &std::collections::BTreeSet<String>) -> Value {
    fn walk(v: &mut Value, differ: &std::collections::BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get_mut("$ref")
                    && r.strip_prefix(&format!("#{DEFS}/"))
                        .is_some_and(|n| differ.contains(n))
                {
                    r.push_str(INPUT_SUFFIX);
                }
                m.values_mut().for_each(|x| walk(x, differ));
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, differ)),
            _ => {}
        }
    }
    walk(&mut v, differ);
    v
}

fn operation(
    op: &Op,
    out_gen: &mut schemars::SchemaGenerator,
    in_gen: &mut schemars::SchemaGenerator,
) -> Value {
    let mut o = json!({
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": format!("{}_{}", op.method, op.path.trim_start_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
    });
    let mut params: Vec<Value> = op
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if let Some(q) = op.query {
        params.extend(query_params(q(in_gen).to_value(), in_gen));
    }
    params.extend(op.headers.iter().map(|(name, what)| {
        json!({"name": name, "in": "header", "required": false, "description": what, "schema": {"type": "string"}})
    }));
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    if let Some(b) = op.body {
        o["requestBody"] = json!({
            "required": !op.body_optional,
            "content": {"application/json": {"schema": b(in_gen).to_value()}},
        });
    }
    let mut responses = Map::new();
    for a in &op.answers {
        let r = responses
            .entry(a.status.to_string())
            .or_insert_with(|| json!({"description": ""}));
        let d = r["description"].as_str().unwrap_or_default().to_string();
        r["description"] = json!(if d.is_empty() {
            a.description.to_string()
        } else {
            format!("{d}; {}", a.description)
        });
        match (a.schema, a.media) {
            (Some(f), _) => {
                let schema = f(out_gen).to_value();
                let content = &mut r["content"]["application/json"]["schema"];
                *content = match content.take() {
                    Value::Null => schema,
                    Value::Object(mut m) if m.contains_key("oneOf") => {
                        m["oneOf"]
                            .as_array_mut()
                            .expect("oneOf is a list")
                            .push(schema);
                        Value::Object(m)
                    }
                    first => json!({"oneOf": [first, schema]}),
                };
            }
            (None, Some(media)) => r["content"][media] = json!({"schema": {"type": "string"}}),
            (None, None) => {}
        }
    }
    let error = json!({"application/json": {"schema": {"$ref": format!("#{DEFS}/ErrorBody")}}});
    out_gen.subschema_for::<crate::rest::ErrorBody>();
    let mut errors: Vec<(u16, String)> =
        op.errors.iter().map(|(c, d)| (*c, d.to_string())).collect();
    if op.body.is_some() && op.path.starts_with("/api/") {
        for (code, why) in [
            (400, "malformed JSON or the wrong shape (the path is named)"),
            (413, "the body is over the server's limit"),
            (415, "not sent as application/json"),
        ] {
            if !errors.iter().any(|(c, _)| *c == code) {
                errors.push((code, why.into()));
            }
        }
    }
    if let Some(p) = op.needs {
        errors.push((401, "no API token or session".into()));
        errors.push((403, format!("the caller's role lacks the {p} permission")));
    }
    for (code, why) in errors {
        responses.insert(
            code.to_string(),
            json!({"description": why, "content": error}),
        );
    }
    o["responses"] = Value::Object(responses);
    if op.needs.is_none() {
        o["security"] = json!([]);
    } else {
        o["description"] = json!(format!(
            "Needs the {} permission.",
            op.needs.unwrap_or_default()
        ));
    }
    o
}

/// A query struct's fields as `in: query` parameters.
fn query_params(schema: Value, g: &mut schemars::SchemaGenerator) -> Vec<Value> {
    // a referenced struct: look it up among the definitions
    let resolved = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default().to_string();
            g.definitions().get(&name).cloned().unwrap_or(Value::Null)
        }
        None => schema,
    };
    let required: Vec<&str> = resolved["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    resolved["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, s)| {
                    let mut p = json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": s});
                    if let Some(d) = s.get("description") {
                        p["description"] = d.clone();
                    }
                    p
                })
                .collect()
        })
        .unwrap_or_default()
}
