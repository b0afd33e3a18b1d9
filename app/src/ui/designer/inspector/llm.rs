//! An LLM step's settings: the model connection, the mode, its labels or
//! schema, the prompts, and how it samples and measures its confidence.
//! The prompts' preview and a test call are in "Test step" below.

use super::kinds::{code_field, edit_kind, json_field};
use super::{Canvas, read};
use crate::domain::expr;
use crate::domain::graph::{
    ConfidenceMethod, LlmConfig, LlmLabel, LlmMode, MAX_SAMPLES, MAX_TOKENS, Node, NodeKind,
};
use leptos::prelude::*;

fn edit_llm(canvas: Canvas, id: &str, f: impl FnOnce(&mut LlmConfig)) {
    edit_kind(canvas, id, |k| {
        if let NodeKind::Llm(c) = k {
            f(c);
        }
    });
}

fn llm<T: Default + 'static>(
    node: Memo<Option<Node>>,
    f: fn(&LlmConfig) -> T,
) -> impl Fn() -> T + Copy + Send + Sync + 'static {
    read(node, move |n| match &n.kind {
        NodeKind::Llm(c) => f(c),
        _ => T::default(),
    })
}

fn mode_of(s: &str) -> LlmMode {
    match s {
        "extract" => LlmMode::Extract,
        "generate" => LlmMode::Generate,
        _ => LlmMode::Classify,
    }
}

fn method_of(s: &str) -> ConfidenceMethod {
    match s {
        "logprobs" => ConfidenceMethod::Logprobs,
        "agreement" => ConfidenceMethod::Agreement,
        "none" => ConfidenceMethod::None,
        _ => ConfidenceMethod::Auto,
    }
}

fn method_name(m: ConfidenceMethod) -> &'static str {
    match m {
        ConfidenceMethod::Auto => "auto",
        ConfidenceMethod::Logprobs => "logprobs",
        ConfidenceMethod::Agreement => "agreement",
        ConfidenceMethod::None => "none",
    }
}

/// The connection picker: the connections an admin set up, and the one
/// the step names even if it is gone.
fn connection_field(canvas: Canvas, id: String, node: Memo<Option<Node>>) -> impl IntoView {
    let chosen = llm(node, |c| c.connection.clone());
    let list = Resource::new(|| (), |_| crate::api::models::list_model_connections());
    view! {
        <label>"Model connection"
            <select data-testid="llm-connection" prop:value=chosen
                on:change=move |ev| { let v = event_target_value(&ev); edit_llm(canvas, &id, |c| c.connection = v); }>
                <option value="">"Choose a connection…"</option>
                <Suspense fallback=|| ()>
                    {move || list.get().map(|r| match r {
                        Ok(list) => {
                            let now = chosen();
                            let missing = (!now.is_empty() && !list.iter().any(|c| c.name == now)).then(|| {
                                view! { <option value=now.clone() selected=true>{format!("{now} (not set up)")}</option> }
                            });
                            let options = list.into_iter().map(|c| {
                                let selected = c.name == now;
                                view! { <option value=c.name.clone() selected=selected>{format!("{} ({})", c.name, c.model)}</option> }
                            }).collect_view();
                            view! { {missing} {options} }.into_any()
                        }
                        Err(e) => view! { <option disabled=true>{e.to_string()}</option> }.into_any(),
                    })}
                </Suspense>
            </select>
        </label>
    }
}

/// Renames label `i` of step `id`; its connections follow.
fn rename_label(canvas: Canvas, id: &str, i: usize, name: String) {
    canvas.edit_merging(id, |d| super::super::edit::rename_label(d, id, i, &name));
}

/// The labels of a classify step, each a port.
fn label_fields(
    canvas: Canvas,
    id: &str,
    node: Memo<Option<Node>>,
    count: usize,
) -> impl IntoView + use<> {
    let rows = (0..count)
        .map(|i| {
            let (id_n, id_d, id_x) = (id.to_string(), id.to_string(), id.to_string());
            let name = read(node, move |n| match &n.kind {
                NodeKind::Llm(c) => c.labels.get(i).map(|l| l.name.clone()).unwrap_or_default(),
                _ => String::new(),
            });
            let description = read(node, move |n| match &n.kind {
                NodeKind::Llm(c) => c.labels.get(i).map(|l| l.description.clone()).unwrap_or_default(),
                _ => String::new(),
            });
            view! {
                <div class="label-row">
                    <input aria-label=format!("Label {} name", i + 1) placeholder="label" prop:value=name
                        on:input=move |ev| { let v = event_target_value(&ev); rename_label(canvas, &id_n, i, v); } />
                    <input aria-label=format!("Label {} description", i + 1) placeholder="what it means" prop:value=description
                        on:input=move |ev| { let v = event_target_value(&ev); edit_llm(canvas, &id_d, |c| if let Some(l) = c.labels.get_mut(i) { l.description = v; }); } />
                    <button type="button" class="small" aria-label=format!("Remove label {}", i + 1)
                        on:click=move |_| edit_llm(canvas, &id_x, |c| { if i < c.labels.len() { c.labels.remove(i); } })>"×"</button>
                </div>
            }
        })
        .collect_view();
    let id_a = id.to_string();
    view! {
        <fieldset class="labels">
            <legend>"Labels (each is a port; low confidence takes 'uncertain' if it is connected)"</legend>
            {rows}
            <button type="button" class="small" on:click=move |_| edit_llm(canvas, &id_a, |c| {
                let n = c.labels.len() + 1;
                c.labels.push(LlmLabel { name: format!("label_{n}"), description: String::new() });
            })>"Add label"</button>
        </fieldset>
    }
}

pub(super) fn llm_fields(canvas: Canvas, id: &str, node: Memo<Option<Node>>) -> AnyView {
    let Some(NodeKind::Llm(cfg)) = node.get_untracked().map(|n| n.kind) else {
        return ().into_any();
    };
    let ids: [String; 9] = std::array::from_fn(|_| id.to_string());
    let [id_m, id_s, id_p, id_j, id_t, id_x, id_c, id_n, id_schema] = ids;
    let mode_fields = match cfg.mode {
        LlmMode::Classify => label_fields(canvas, id, node, cfg.labels.len()).into_any(),
        LlmMode::Extract => json_field("Fields to extract (JSON Schema of an object)", cfg.schema.clone(), move |v| {
            edit_llm(canvas, &id_schema, |c| c.schema = v)
        })
        .into_any(),
        LlmMode::Generate => view! {
            <label class="check">
                <input type="checkbox" prop:checked=llm(node, |c| c.json)
                    on:change=move |ev| { let v = event_target_checked(&ev); edit_llm(canvas, &id_j, |c| c.json = v); } />
                "The answer is JSON (else text)"
            </label>
        }
        .into_any(),
    };
    let opt_num = |v: String| v.trim().parse().ok();
    view! {
        {connection_field(canvas, id.to_string(), node)}
        <label>"Mode"
            <select data-testid="llm-mode" prop:value=llm(node, |c| c.mode.as_str().to_string())
                on:change=move |ev| { let v = mode_of(&event_target_value(&ev)); edit_llm(canvas, &id_m, |c| c.mode = v); }>
                <option value="classify">"Classify: choose a label"</option>
                <option value="extract">"Extract: fill a JSON object"</option>
                <option value="generate">"Generate: write text"</option>
            </select>
        </label>
        {mode_fields}
        {code_field(
            "System prompt (template, optional)",
            3,
            llm(node, |c| c.system.clone()),
            expr::check_template,
            move |v| edit_llm(canvas, &id_s, |c| c.system = v),
        )}
        {code_field(
            "Prompt (template over the run context)",
            5,
            llm(node, |c| c.prompt.clone()),
            expr::check_template,
            move |v| edit_llm(canvas, &id_p, |c| c.prompt = v),
        )}
        <details class="sampling">
            <summary>"Sampling and confidence"</summary>
            <label>"Confidence measured by"
                <select data-testid="llm-method" prop:value=llm(node, |c| method_name(c.confidence).to_string())
                    on:change=move |ev| { let v = method_of(&event_target_value(&ev)); edit_llm(canvas, &id_c, |c| c.confidence = v); }>
                    <option value="auto">"Log-probabilities, else agreement across samples"</option>
                    <option value="logprobs">"Log-probabilities only"</option>
                    <option value="agreement">"Agreement across samples"</option>
                    <option value="none">"Not measured"</option>
                </select>
            </label>
            <label>{format!("Samples for agreement (2 to {MAX_SAMPLES}; empty: 3)")}
                <input type="number" min="2" max=MAX_SAMPLES prop:value=llm(node, |c| c.samples.map(|s| s.to_string()).unwrap_or_default())
                    on:change=move |ev| { let v = opt_num(event_target_value(&ev)); edit_llm(canvas, &id_n, |c| c.samples = v); } />
            </label>
            <label>"Temperature (0 to 2; empty: the server's default)"
                <input type="number" min="0" max="2" step="0.1" prop:value=llm(node, |c| c.temperature.map(|t| t.to_string()).unwrap_or_default())
                    on:change=move |ev| { let v = event_target_value(&ev).trim().parse().ok(); edit_llm(canvas, &id_t, |c| c.temperature = v); } />
            </label>
            <label>{format!("Most tokens in an answer (1 to {MAX_TOKENS}; empty: the server's default)")}
                <input type="number" min="1" max=MAX_TOKENS prop:value=llm(node, |c| c.max_tokens.map(|t| t.to_string()).unwrap_or_default())
                    on:change=move |ev| { let v = opt_num(event_target_value(&ev)); edit_llm(canvas, &id_x, |c| c.max_tokens = v); } />
            </label>
        </details>
    }
    .into_any()
}

/// The conversation an LLM step would send, rendered over the sample data
/// as you type (the same templates and instructions the server uses);
/// nothing for other steps.
pub(super) fn prompt_preview(canvas: Canvas, id: String, sample: RwSignal<String>) -> AnyView {
    let is_llm = canvas.def.with_untracked(|d| {
        d.node(&id)
            .is_some_and(|n| matches!(n.kind, NodeKind::Llm(_)))
    });
    if !is_llm {
        return ().into_any();
    }
    let preview = move || {
        let cfg = canvas.def.with(|d| match d.node(&id).map(|n| &n.kind) {
            Some(NodeKind::Llm(c)) => Some(c.clone()),
            _ => None,
        })?;
        let ctx: serde_json::Value = match serde_json::from_str(&sample.get()) {
            Ok(v) => v,
            Err(e) => return Some(Err(format!("the sample data is not JSON: {e}"))),
        };
        let rendered = expr::render_template(&cfg.system, &ctx)
            .map_err(|e| format!("system prompt: {e}"))
            .and_then(|s| {
                expr::render_template(&cfg.prompt, &ctx)
                    .map(|p| (s, p))
                    .map_err(|e| format!("prompt: {e}"))
            });
        Some(rendered.map(|(s, p)| crate::domain::llm::answer::messages(&cfg, &s, &p)))
    };
    view! {
        <details class="prompt-preview" open=true>
            <summary>"Prompt preview (over the sample data)"</summary>
            {move || match preview() {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="field-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(messages)) => messages
                    .into_iter()
                    .map(|m| view! {
                        <div class="message" data-testid="preview-message">
                            <strong>{m.role}</strong>
                            <pre>{m.content}</pre>
                        </div>
                    })
                    .collect_view()
                    .into_any(),
            }}
        </details>
    }
    .into_any()
}
