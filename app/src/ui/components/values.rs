//! JSON values as people read and edit them: a key/value table with the
//! JSON behind a toggle, and an editor with one typed field per key (a
//! number field for a number, a checkbox for a yes/no) and the whole JSON
//! a click away.

use leptos::prelude::*;
use serde_json::{Map, Value};

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// How one scalar reads in a table cell.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        other => other.to_string(),
    }
}

/// A value as a table of its fields (an object), or as itself; nested
/// values show as compact JSON. The whole JSON sits behind a toggle.
#[component]
pub fn ValueTable(
    value: Value,
    #[prop(optional, into)] label: String,
    /// Leave out the JSON toggle (the caller shows the JSON its own way).
    #[prop(optional)]
    no_json: bool,
) -> impl IntoView {
    let body = match &value {
        Value::Object(m) if !m.is_empty() => view! {
            <table class="kv" aria-label=label.clone()>
                <tbody>{m.iter().map(|(k, v)| view! {
                    <tr data-key=k.clone()><th scope="row">{k.clone()}</th>
                        <td>{match v {
                            Value::Object(_) | Value::Array(_) => view! { <code class="small">{v.to_string()}</code> }.into_any(),
                            _ => view! { <span>{cell(v)}</span> }.into_any(),
                        }}</td></tr>
                }).collect_view()}</tbody>
            </table>
        }
        .into_any(),
        Value::Object(_) => view! { <p class="muted">"(no fields)"</p> }.into_any(),
        other => view! { <p class="kv-scalar">{cell(other)}</p> }.into_any(),
    };
    let json = pretty(&value);
    view! {
        <div class="value">
            {body}
            {(!no_json).then(|| view! {
                <details class="json-block"><summary>"JSON"</summary><pre class="json small">{json}</pre></details>
            })}
        </div>
    }
}

/// Whether the value can be edited field by field: an object whose fields
/// are scalars (nested ones are edited as JSON, each in its own box).
fn has_fields(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty())
}

/// Edits `initial`; `out` always holds the edited value as JSON text (what
/// is sent). Typed fields per key, or the whole JSON with "Edit as JSON".
#[component]
pub fn ValueEditor(initial: Value, out: RwSignal<String>, label: &'static str) -> impl IntoView {
    let value = RwSignal::new(initial.clone());
    let original = StoredValue::new(initial.clone());
    let as_json = RwSignal::new(!has_fields(&initial));
    out.set(pretty(&initial));
    // typing into a field updates the value; the JSON text follows
    let set = move |k: String, v: Value| {
        value.update(|o| {
            if let Value::Object(m) = o {
                m.insert(k, v);
            }
        });
        out.set(pretty(&value.get_untracked()));
    };
    let toggle = move |_| {
        if as_json.get_untracked() {
            // back to fields: only when the text is an object
            match serde_json::from_str::<Value>(&out.get_untracked()) {
                Ok(v) if has_fields(&v) => {
                    value.set(v);
                    as_json.set(false);
                }
                _ => {}
            }
        } else {
            as_json.set(true);
        }
    };
    let keys: Map<String, Value> = initial.as_object().cloned().unwrap_or_default();
    let fields = keys
        .into_iter()
        .map(|(k, v0)| {
            let key = k.clone();
            let read = move || value.with(|o| o.get(&key).cloned().unwrap_or(Value::Null));
            let (k1, k2, k3) = (k.clone(), k.clone(), k.clone());
            let input = match v0 {
                Value::Number(_) => view! {
                    <input type="number" step="any" name=k.clone()
                        prop:value=move || read().to_string()
                        on:input=move |ev| {
                            let t = event_target_value(&ev);
                            let v = t.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(|n| {
                                // 5200, not 5200.0, for whole numbers
                                n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                                    .map(|f| Value::from(f as i64)).unwrap_or(Value::Number(n))
                            }).unwrap_or(Value::String(t));
                            set(k1.clone(), v);
                        } />
                }
                .into_any(),
                Value::Bool(_) => view! {
                    <input type="checkbox" name=k.clone() prop:checked=move || read() == Value::Bool(true)
                        on:change=move |ev| set(k1.clone(), Value::Bool(event_target_checked(&ev))) />
                }
                .into_any(),
                Value::Object(_) | Value::Array(_) => view! {
                    <textarea rows="3" spellcheck="false" name=k.clone() prop:value=move || pretty(&read())
                        on:change=move |ev| {
                            let t = event_target_value(&ev);
                            set(k1.clone(), serde_json::from_str(&t).unwrap_or(Value::String(t)));
                        }></textarea>
                }
                .into_any(),
                _ => view! {
                    <input type="text" name=k.clone() prop:value=move || match read() { Value::String(s) => s, Value::Null => String::new(), o => o.to_string() }
                        on:input=move |ev| set(k1.clone(), Value::String(event_target_value(&ev))) />
                }
                .into_any(),
            };
            let changed = move || {
                let now = value.with(|o| o.get(&k2).cloned());
                original.with_value(|o| o.get(&k2).cloned()) != now
            };
            view! {
                <label class="field" class:changed=changed>{k3}{input}</label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="value-editor" aria-label=label>
            <legend>{label}</legend>
            <div hidden=move || as_json.get()>{fields}</div>
            <Show when=move || as_json.get()>
                <textarea rows="8" spellcheck="false" aria-label=format!("{label} (JSON)")
                    prop:value=move || out.get() on:input=move |ev| out.set(event_target_value(&ev))></textarea>
            </Show>
            <button type="button" class="link" on:click=toggle>
                {move || if as_json.get() { "Edit as fields" } else { "Edit as JSON" }}
            </button>
        </fieldset>
    }
}
