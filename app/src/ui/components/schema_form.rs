//! A form generated from a JSON Schema (a Start step's input schema): one
//! field per property (required ones first), typed (text, number, yes/no, a choice for `enum`,
//! JSON for nested values), required ones marked; "Edit as JSON" shows the
//! whole input as text. The server checks the input against the schema and
//! names any field that is wrong.

use leptos::prelude::*;
use serde_json::{Map, Value};

/// One property of the schema, as the form shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    pub required: bool,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    Text,
    Number,
    Boolean,
    Choice(Vec<String>),
    Json,
}

/// The fields of an object schema: the required ones first, in the order
/// `required` lists them, then the others by name; None when the schema is
/// not an object with properties (the form is then JSON only).
pub fn fields(schema: &Value) -> Option<Vec<Field>> {
    let props = schema.get("properties")?.as_object()?;
    if props.is_empty() {
        return None;
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let rank = |name: &str| {
        required
            .iter()
            .position(|r| *r == name)
            .unwrap_or(usize::MAX)
    };
    let mut ordered: Vec<(&String, &Value)> = props.iter().collect();
    ordered.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then(a.0.cmp(b.0)));
    Some(
        ordered
            .into_iter()
            .map(|(name, p)| {
                let kind = if let Some(options) = p["enum"].as_array() {
                    FieldKind::Choice(
                        options
                            .iter()
                            .map(|o| {
                                o.as_str()
                                    .map(String::from)
                                    .unwrap_or_else(|| o.to_string())
                            })
                            .collect(),
                    )
                } else {
                    match p["type"].as_str() {
                        Some("string") => FieldKind::Text,
                        Some("number" | "integer") => FieldKind::Number,
                        Some("boolean") => FieldKind::Boolean,
                        _ => FieldKind::Json,
                    }
                };
                Field {
                    name: name.clone(),
                    kind,
                    required: required.contains(&name.as_str()),
                    description: p["description"].as_str().map(String::from),
                }
            })
            .collect(),
    )
}

/// What a field's text means as JSON (None: left empty, so not sent).
pub fn value_of(kind: &FieldKind, text: &str) -> Option<Value> {
    if text.is_empty() {
        return None;
    }
    Some(match kind {
        FieldKind::Number => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.trim().parse::<f64>().map(Value::from))
            // the server says the field is not a number
            .unwrap_or_else(|_| Value::String(text.to_string())),
        FieldKind::Boolean => Value::Bool(text == "true"),
        FieldKind::Json => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()))
        }
        FieldKind::Text | FieldKind::Choice(_) => Value::String(text.to_string()),
    })
}

/// The input form; `out` always holds the input as JSON text (what is sent).
#[component]
pub fn SchemaForm(schema: Option<Value>, out: RwSignal<String>) -> impl IntoView {
    let list = schema.as_ref().and_then(fields).unwrap_or_default();
    let as_json = RwSignal::new(list.is_empty());
    let texts = RwSignal::new(Map::<String, Value>::new());
    let kinds: Vec<(String, FieldKind)> = list
        .iter()
        .map(|f| (f.name.clone(), f.kind.clone()))
        .collect();
    let kinds = StoredValue::new(kinds);
    // the fields write the JSON; "Edit as JSON" then edits that text
    let sync = move || {
        let mut obj = Map::new();
        texts.with_untracked(|t| {
            kinds.with_value(|ks| {
                for (name, kind) in ks {
                    let text = t.get(name).and_then(Value::as_str).unwrap_or_default();
                    if let Some(v) = value_of(kind, text) {
                        obj.insert(name.clone(), v);
                    }
                }
            })
        });
        out.set(serde_json::to_string_pretty(&Value::Object(obj)).unwrap_or_default());
    };
    if out.get_untracked().is_empty() {
        out.set("{}".into());
    }
    let set = move |name: String, text: String| {
        texts.update(|t| {
            t.insert(name, Value::String(text));
        });
        sync();
    };
    let inputs = list
        .into_iter()
        .map(|f| {
            let label = format!("{}{}", f.name, if f.required { " *" } else { "" });
            let n = f.name.clone();
            let input = match &f.kind {
                FieldKind::Boolean => view! {
                    <input type="checkbox" on:change=move |ev| set(n.clone(), event_target_checked(&ev).to_string()) />
                }
                .into_any(),
                FieldKind::Choice(options) => view! {
                    <select on:change=move |ev| set(n.clone(), event_target_value(&ev))>
                        <option value="">"choose…"</option>
                        {options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                    </select>
                }
                .into_any(),
                FieldKind::Number => view! {
                    <input type="number" step="any" on:input=move |ev| set(n.clone(), event_target_value(&ev)) />
                }
                .into_any(),
                FieldKind::Json => view! {
                    <textarea rows="2" spellcheck="false" on:input=move |ev| set(n.clone(), event_target_value(&ev))></textarea>
                }
                .into_any(),
                FieldKind::Text => view! {
                    <input type="text" on:input=move |ev| set(n.clone(), event_target_value(&ev)) />
                }
                .into_any(),
            };
            view! {
                <label class="field">{label}{input}
                    {f.description.map(|d| view! { <span class="hint muted">{d}</span> })}
                </label>
            }
        })
        .collect_view();
    let has_fields = !kinds.with_value(Vec::is_empty);
    view! {
        <div class="schema-form">
            <div hidden=move || as_json.get()>{inputs}</div>
            <Show when=move || as_json.get()>
                <label>"Input (JSON)"
                    <textarea rows="4" spellcheck="false" prop:value=move || out.get()
                        on:input=move |ev| out.set(event_target_value(&ev))></textarea>
                </label>
            </Show>
            {has_fields.then(|| view! {
                <button type="button" class="link" on:click=move |_| as_json.update(|j| *j = !*j)>
                    {move || if as_json.get() { "Edit as fields" } else { "Edit as JSON" }}
                </button>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_s_properties_become_typed_fields_in_order() {
        let schema = json!({
            "type": "object",
            "required": ["vendor", "amount"],
            "properties": {
                "vendor": {"type": "string", "description": "who sent it"},
                "amount": {"type": "number"},
                "urgent": {"type": "boolean"},
                "currency": {"enum": ["EUR", "USD"]},
                "lines": {"type": "array"}
            }
        });
        let f = fields(&schema).unwrap();
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        // required first, as listed; then the rest by name
        assert_eq!(names, ["vendor", "amount", "currency", "lines", "urgent"]);
        assert_eq!(f[0].kind, FieldKind::Text);
        assert!(f[0].required && f[1].required && !f[2].required);
        assert_eq!(f[0].description.as_deref(), Some("who sent it"));
        assert_eq!(f[1].kind, FieldKind::Number);
        assert_eq!(
            f[2].kind,
            FieldKind::Choice(vec!["EUR".into(), "USD".into()])
        );
        assert_eq!(f[3].kind, FieldKind::Json);
        assert_eq!(f[4].kind, FieldKind::Boolean);
        assert_eq!(fields(&json!({"type": "object"})), None);
        assert_eq!(fields(&json!(true)), None);
    }

    #[test]
    fn field_texts_become_json_values_and_empty_ones_are_left_out() {
        assert_eq!(value_of(&FieldKind::Number, "5300"), Some(json!(5300)));
        assert_eq!(value_of(&FieldKind::Number, "12.5"), Some(json!(12.5)));
        // not a number: sent as typed, so the server names the field
        assert_eq!(value_of(&FieldKind::Number, "12a"), Some(json!("12a")));
        assert_eq!(value_of(&FieldKind::Number, ""), None);
        assert_eq!(value_of(&FieldKind::Boolean, "true"), Some(json!(true)));
        assert_eq!(value_of(&FieldKind::Json, "[1, 2]"), Some(json!([1, 2])));
        assert_eq!(value_of(&FieldKind::Text, "ACME"), Some(json!("ACME")));
    }
}
