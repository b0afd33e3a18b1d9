//! The data the selected step can read: the run input and the output of
//! every step before it, with the values of the workflow's newest run (a
//! test run counts), or the paths the Start schema and the step kinds
//! promise when it never ran. Clicking a field puts its path into the
//! expression or template being edited (the last one focused).

use super::super::state::Canvas;
use crate::domain::{NodeKind, WorkflowDef};
use leptos::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

/// At most this many fields are offered per step.
const MAX_FIELDS: usize = 60;
/// At most this many earlier steps are listed (the nearest): a step deep
/// in a large graph would otherwise list hundreds.
const MAX_STEPS: usize = 40;

/// The steps `id` can read, nearest first: those with a path to it.
pub fn upstream(def: &WorkflowDef, id: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut queue: VecDeque<&str> = VecDeque::from([id]);
    while let Some(at) = queue.pop_front() {
        for e in def.edges.iter().filter(|e| e.to == at) {
            if e.from != id && !seen.contains(&e.from) {
                seen.push(e.from.clone());
                queue.push_back(&e.from);
            }
        }
    }
    seen
}

fn segment(key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!(".{key}")
    } else {
        format!("[{}]", Value::String(key.into()))
    }
}

/// Every field of `v` under `path` (objects by key, a list by its first
/// item), each with a short preview of its value.
pub fn fields(path: &str, v: &Value, out: &mut Vec<(String, String)>) {
    if out.len() >= MAX_FIELDS {
        return;
    }
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                fields(&format!("{path}{}", segment(k)), x, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            out.push((path.to_string(), format!("a list of {}", a.len())));
            fields(&format!("{path}[0]"), &a[0], out);
        }
        other => {
            let s = other.to_string();
            let preview = if s.chars().count() > 40 {
                format!("{}…", s.chars().take(40).collect::<String>())
            } else {
                s
            };
            out.push((path.to_string(), preview));
        }
    }
}

/// The fields a step promises before it ever ran (its kind's output).
fn promised(kind: &NodeKind, base: &str) -> Vec<(String, String)> {
    let with = |keys: &[&str]| {
        keys.iter()
            .map(|k| (format!("{base}.{k}"), String::new()))
            .collect()
    };
    match kind {
        NodeKind::Http { .. } => with(&["status", "body"]),
        NodeKind::Branch { .. } => with(&["taken"]),
        NodeKind::Delay { .. } => with(&["waited_ms"]),
        _ => vec![(base.to_string(), String::new())],
    }
}

/// The groups the panel shows: (title, [(path, preview)]).
pub fn groups(
    def: &WorkflowDef,
    id: &str,
    input: Option<&Value>,
    outputs: &BTreeMap<String, Value>,
) -> Vec<(String, Vec<(String, String)>)> {
    let mut list = Vec::new();
    let mut inp = Vec::new();
    match input {
        Some(v) => fields(".input", v, &mut inp),
        None => {
            let schema = def.nodes.iter().find_map(|n| match &n.kind {
                NodeKind::Start { input_schema } => input_schema.clone(),
                _ => None,
            });
            if let Some(props) = schema.as_ref().and_then(|s| s["properties"].as_object()) {
                inp.extend(
                    props
                        .keys()
                        .map(|k| (format!(".input{}", segment(k)), String::new())),
                );
            } else {
                inp.push((".input".into(), String::new()));
            }
        }
    }
    list.push(("Run input".to_string(), inp));
    for up in upstream(def, id).into_iter().take(MAX_STEPS) {
        let Some(node) = def.node(&up) else { continue };
        let base = format!(".steps{}.output", segment(&up));
        let mut f = Vec::new();
        match outputs.get(&up) {
            Some(v) => fields(&base, v, &mut f),
            None => f = promised(&node.kind, &base),
        }
        list.push((format!("{} ({up})", node.name), f));
    }
    list
}

/// How a jq path reads in a template: `steps.a.output.b` inside `{{ }}`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn as_template(path: &str) -> String {
    format!("{{{{ {} }}}}", path.trim_start_matches('.'))
}

/// Puts `text` at the caret of the field (an input or a textarea) and
/// tells the field's handlers, so the step is edited as if typed.
#[cfg(feature = "hydrate")]
fn insert_at_caret(el: &leptos::web_sys::HtmlElement, text: &str) {
    use leptos::wasm_bindgen::JsCast;
    let (value, start, end) = if let Some(t) = el.dyn_ref::<leptos::web_sys::HtmlTextAreaElement>()
    {
        (
            t.value(),
            t.selection_start().ok().flatten(),
            t.selection_end().ok().flatten(),
        )
    } else if let Some(i) = el.dyn_ref::<leptos::web_sys::HtmlInputElement>() {
        (
            i.value(),
            i.selection_start().ok().flatten(),
            i.selection_end().ok().flatten(),
        )
    } else {
        return;
    };
    // the caret counts UTF-16 units
    let units: Vec<u16> = value.encode_utf16().collect();
    let start = (start.unwrap_or(units.len() as u32) as usize).min(units.len());
    let end = (end.unwrap_or(start as u32) as usize).clamp(start, units.len());
    let mut out: Vec<u16> = units[..start].to_vec();
    out.extend(text.encode_utf16());
    let caret = out.len() as u32;
    out.extend_from_slice(&units[end..]);
    let new = String::from_utf16_lossy(&out);
    if let Some(t) = el.dyn_ref::<leptos::web_sys::HtmlTextAreaElement>() {
        t.set_value(&new);
        let _ = t.set_selection_range(caret, caret);
    } else if let Some(i) = el.dyn_ref::<leptos::web_sys::HtmlInputElement>() {
        i.set_value(&new);
        let _ = i.set_selection_range(caret, caret);
    }
    let _ = el.focus();
    for kind in ["input", "change"] {
        let init = leptos::web_sys::EventInit::new();
        init.set_bubbles(true);
        if let Ok(ev) = leptos::web_sys::Event::new_with_event_init_dict(kind, &init) {
            let _ = el.dispatch_event(&ev);
        }
    }
}

#[component]
pub fn DataPanel(canvas: Canvas, id: String) -> impl IntoView {
    let workflow = canvas.workflow_id.get_untracked();
    // Only ever drawn in the browser (a step is selected), and closed at any
    // moment (the step deleted, another selected): a local resource read
    // with `try_get`, so a fetch that ends after the panel is gone finds
    // nothing to draw instead of reading a disposed signal.
    let latest = LocalResource::new(move || {
        let w = workflow.clone();
        async move {
            match w {
                Some(w) => crate::api::runs::latest_run(w).await.ok().flatten(),
                None => None,
            }
        }
    });
    let pick = move |path: String| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let target = document()
                .query_selector(".inspector [data-last-focus]")
                .ok()
                .flatten()
                .or_else(|| {
                    document()
                        .query_selector(".inspector [data-code]")
                        .ok()
                        .flatten()
                })
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            if let Some(el) = target {
                let template = el.get_attribute("data-code").as_deref() == Some("template");
                let text = if template { as_template(&path) } else { path };
                insert_at_caret(&el, &text);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = path;
    };
    // every path the step can read, for the fields' autocomplete
    let id_paths = id.clone();
    let paths = Memo::new(move |_| {
        let run = latest.get().flatten();
        let outputs: BTreeMap<String, Value> = run
            .as_ref()
            .map(|r| {
                r.steps
                    .iter()
                    .filter_map(|s| Some((s.node_id.clone(), s.output.clone()?)))
                    .collect()
            })
            .unwrap_or_default();
        let input = run.as_ref().map(|r| r.run.input.clone());
        let mut all: Vec<String> = canvas.def.with(|d| {
            groups(d, &id_paths, input.as_ref(), &outputs)
                .into_iter()
                .flat_map(|(_, f)| f.into_iter().map(|(p, _)| p))
                .collect()
        });
        // the step's own output too, before its fields
        let bases: Vec<String> = canvas.def.with(|d| {
            upstream(d, &id_paths)
                .into_iter()
                .take(MAX_STEPS)
                .map(|u| format!(".steps{}.output", segment(&u)))
                .collect()
        });
        all.extend(bases);
        all
    });
    view! {
        <super::suggest::Suggestions paths />
        <details class="data-panel" open>
            <summary>"Data this step can read"</summary>
            {move || {
                    let Some(run) = latest.try_get().flatten() else {
                        return view! { <p class="muted">"Loading…"</p> }.into_any();
                    };
                    let source = match &run {
                        Some(r) => format!("From the newest run ({}).", if crate::domain::records::is_test_version(r.run.version) { "a test run".to_string() } else { format!("run {}", r.number) }),
                        None => "No run yet: the fields the input schema and the steps promise. Click one to put it where you are typing.".to_string(),
                    };
                    let outputs: BTreeMap<String, Value> = run.as_ref().map(|r| r.steps.iter().filter_map(|s| Some((s.node_id.clone(), s.output.clone()?))).collect()).unwrap_or_default();
                    let input = run.as_ref().map(|r| r.run.input.clone());
                    let list = canvas.def.with(|d| groups(d, &id, input.as_ref(), &outputs));
                    view! {
                        <p class="muted small">{source}</p>
                        {list.into_iter().map(|(title, fields)| view! {
                            <div class="data-group">
                                <h4>{title}</h4>
                                <ul>{fields.into_iter().map(|(path, preview)| {
                                    let p = path.clone();
                                    view! {
                                        <li><button type="button" class="data-field" title="Put this path into the field being edited"
                                            // keep the field's focus and caret
                                            on:pointerdown=move |ev| ev.prevent_default()
                                            on:click=move |_| pick(p.clone())>
                                            <code>{path}</code></button>
                                            {(!preview.is_empty()).then(|| view! { <span class="muted small">{format!(" {preview}")}</span> })}</li>
                                    }
                                }).collect_view()}</ul>
                            </div>
                        }).collect_view()}
                    }.into_any()
                }}
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_step_reads_every_step_before_it_nearest_first() {
        let def = crate::domain::example::invoice_approval();
        assert_eq!(upstream(&def, "extract"), ["start"]);
        assert_eq!(
            upstream(&def, "post_ledger"),
            ["merge", "route", "approve", "extract", "start"]
        );
        assert!(upstream(&def, "start").is_empty());
    }

    #[test]
    fn fields_are_paths_with_previews_and_odd_keys_are_quoted() {
        let mut out = Vec::new();
        let v = json!({"amount": 5300, "vendor name": "ACME", "lines": [{"sku": "A"}]});
        fields(".steps.extract.output", &v, &mut out);
        assert_eq!(
            out,
            [
                (
                    ".steps.extract.output.amount".to_string(),
                    "5300".to_string()
                ),
                (
                    ".steps.extract.output.lines".to_string(),
                    "a list of 1".to_string()
                ),
                (
                    ".steps.extract.output.lines[0].sku".to_string(),
                    "\"A\"".to_string()
                ),
                (
                    ".steps.extract.output[\"vendor name\"]".to_string(),
                    "\"ACME\"".to_string()
                ),
            ]
        );
        assert_eq!(as_template(".steps.a.output.b"), "{{ steps.a.output.b }}");
    }

    #[test]
    fn a_step_deep_in_a_long_chain_lists_only_the_nearest_steps() {
        let mut def = WorkflowDef::minimal();
        def.edges.clear();
        let mut prev = "start".to_string();
        for i in 0..200 {
            let id = format!("t{i}");
            def.nodes.push(crate::domain::Node::new(
                &id,
                &id,
                NodeKind::Transform {
                    expression: ".".into(),
                },
            ));
            def.edges.push(crate::domain::Edge::new(&prev, "out", &id));
            prev = id;
        }
        let g = groups(&def, &prev, None, &BTreeMap::new());
        assert_eq!(g.len(), 1 + MAX_STEPS, "the input and the nearest steps");
        assert_eq!(g[1].0, "t198 (t198)");
    }

    #[test]
    fn without_a_run_the_schema_and_the_kinds_say_what_there_will_be() {
        let def = crate::domain::example::invoice_approval();
        let g = groups(&def, "post_ledger", None, &BTreeMap::new());
        assert_eq!(g[0].0, "Run input");
        let input: Vec<&str> = g[0].1.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(input, [".input.amount", ".input.currency", ".input.vendor"]);
        let route = g.iter().find(|(t, _)| t.contains("(route)")).unwrap();
        assert_eq!(route.1[0].0, ".steps.route.output.taken");
    }
}
