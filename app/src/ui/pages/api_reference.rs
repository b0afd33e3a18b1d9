//! `/api`: the REST API's reference, rendered from its OpenAPI document by
//! the app itself (no CDN, no script from elsewhere).

use crate::api::reference::api_document;
use crate::ui::components::ErrorBox;
use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let doc = Resource::new(|| (), |_| api_document());
    view! {
        <Title text="API reference" />
        <h1>"API reference"</h1>
        <p class="muted">"REST API v1 and webhook deliveries. The same description as "
            <a href="/api/v1/openapi.json"><code>"/api/v1/openapi.json"</code></a>
            " (OpenAPI 3.1). Send an API token as " <code>"Authorization: Bearer swt_…"</code>
            "; errors are " <code>"{\"error\": {\"code\", \"message\", \"problems\"?}}"</code> "."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || doc.get().map(|r| match r {
                Ok(d) => view! { <Reference doc=d /> }.into_any(),
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
            })}
        </Transition>
    }
}

/// A tag and its operations (method, path, operation).
type TagGroup = (String, Vec<(String, String, Value)>);

#[component]
fn Reference(doc: Value) -> impl IntoView {
    // operations grouped by their tag, in the document's order
    let mut tags: Vec<TagGroup> = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
            let entry = match tags.iter_mut().position(|(t, _)| *t == tag) {
                Some(i) => &mut tags[i].1,
                None => {
                    tags.push((tag, Vec::new()));
                    &mut tags.last_mut().expect("just pushed").1
                }
            };
            entry.push((m.to_string(), path.clone(), op.clone()));
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    view! {
        <nav class="card api-toc" aria-label="Sections">
            {tags.iter().map(|(t, ops)| view! { <a href=format!("#tag-{t}")>{format!("{t} ({})", ops.len())}</a> " " }).collect_view()}
            <a href="#schemas">"schemas"</a>
        </nav>
        {tags.into_iter().map(|(tag, ops)| view! {
            <section class="api-tag" id=format!("tag-{tag}") aria-label=format!("Operations: {tag}")>
                <h2>{tag.clone()}</h2>
                {ops.into_iter().map(|(m, p, op)| view! { <Operation method=m path=p op /> }).collect_view()}
            </section>
        }).collect_view()}
        <section id="schemas" aria-label="Schemas">
            <h2>"Schemas"</h2>
            {schemas.into_iter().map(|(name, s)| view! { <SchemaView name schema=s /> }).collect_view()}
        </section>
    }
}

#[component]
fn Operation(method: String, path: String, op: Value) -> impl IntoView {
    let params: Vec<Value> = op["parameters"].as_array().cloned().unwrap_or_default();
    let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
    let body_required = op["requestBody"]["required"].as_bool().unwrap_or(false);
    let responses = op["responses"].as_object().cloned().unwrap_or_default();
    view! {
        <article class="api-op card" aria-label=format!("{} {path}", method.to_uppercase())>
            <h3><span class=format!("method method-{method}")>{method.to_uppercase()}</span> " " <code>{path.clone()}</code></h3>
            <p>{op["summary"].as_str().unwrap_or_default().to_string()}
               {op["description"].as_str().map(|d| view! { " " <span class="muted">{d.to_string()}</span> })}</p>
            {(!params.is_empty()).then(|| view! {
                <table class="table api-params">
                    <thead><tr><th>"Parameter"</th><th>"In"</th><th>"Type"</th><th>"About"</th></tr></thead>
                    <tbody>{params.into_iter().map(|p| view! {
                        <tr>
                            <td><code>{p["name"].as_str().unwrap_or_default().to_string()}</code>{p["required"].as_bool().unwrap_or(false).then_some(" *")}</td>
                            <td>{p["in"].as_str().unwrap_or_default().to_string()}</td>
                            <td>{type_view(&p["schema"])}</td>
                            <td class="muted">{p["description"].as_str().unwrap_or_default().to_string()}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            })}
            {(!body.is_null()).then(|| view! {
                <p>"Body" {if body_required { "" } else { " (optional)" }} ": " {type_view(&body)}</p>
            })}
            <ul class="api-responses">
                {responses.into_iter().map(|(code, r)| {
                    let content = r["content"].as_object().cloned().unwrap_or_default();
                    view! {
                        <li><strong>{code}</strong> " " {r["description"].as_str().unwrap_or_default().to_string()}
                            {content.into_iter().map(|(media, c)| view! {
                                " · " <code class="muted">{media}</code> " " {type_view(&c["schema"])}
                            }).collect_view()}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </article>
    }
}

#[component]
fn SchemaView(name: String, schema: Value) -> impl IntoView {
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let required: Vec<String> = schema["required"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let json = serde_json::to_string_pretty(&schema).unwrap_or_default();
    view! {
        <article class="api-schema card" id=format!("schema-{name}") aria-label=format!("Schema {name}")>
            <h3><code>{name.clone()}</code></h3>
            {schema["description"].as_str().map(|d| view! { <p class="muted">{d.to_string()}</p> })}
            {if props.is_empty() {
                view! { <p>{type_view(&schema)}</p> }.into_any()
            } else {
                view! {
                    <table class="table api-fields">
                        <thead><tr><th>"Field"</th><th>"Type"</th><th>"About"</th></tr></thead>
                        <tbody>{props.into_iter().map(|(f, s)| view! {
                            <tr>
                                <td><code>{f.clone()}</code>{required.contains(&f).then_some(" *")}</td>
                                <td>{type_view(&s)}</td>
                                <td class="muted">{s["description"].as_str().unwrap_or_default().to_string()}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
            <details><summary class="muted">"JSON Schema"</summary><pre class="json">{json}</pre></details>
        </article>
    }
}

/// A schema's type in a few words, with links to named schemas.
fn type_view(s: &Value) -> AnyView {
    if let Some(r) = s["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default().to_string();
        return view! { <a href=format!("#schema-{name}")><code>{name.clone()}</code></a> }
            .into_any();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = s[key].as_array() {
            let word = if key == "allOf" { " and " } else { " or " };
            let parts: Vec<AnyView> = list.iter().map(type_view).collect();
            let n = parts.len();
            return view! { <span>{parts.into_iter().enumerate().map(|(i, p)| view! { {p}{(i + 1 < n).then_some(word)} }).collect_view()}</span> }.into_any();
        }
    }
    if let Some(c) = s.get("const") {
        return view! { <code>{c.to_string()}</code> }.into_any();
    }
    if let Some(e) = s["enum"].as_array() {
        let vals: Vec<String> = e.iter().map(Value::to_string).collect();
        return view! { <code>{vals.join(" | ")}</code> }.into_any();
    }
    let types: Vec<String> = match &s["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => vec![],
    };
    if types.iter().any(|t| t == "array") {
        let null = types.iter().any(|t| t == "null").then_some(" or null");
        return view! { <span>"array of " {type_view(&s["items"])}{null}</span> }.into_any();
    }
    if types.is_empty() {
        return view! { <span class="muted">"any JSON"</span> }.into_any();
    }
    view! { <span>{types.join(" or ")}</span> }.into_any()
}
