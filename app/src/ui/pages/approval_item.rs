//! One approval item, laid out for the decision: the proposal as typed
//! fields (JSON behind a toggle), the form, and Approve / Reject always in
//! view; below, what led here (the run input and the earlier steps by
//! name, as readable tables); once decided, what the approvers changed.

use crate::api::approvals::{DecideApproval, ItemView, get_approval};
use crate::domain::graph::FormFieldKind;
use crate::domain::records::format_time;
use crate::domain::run::ItemStatus;
use crate::ui::components::values::{ValueEditor, ValueTable};
use crate::ui::components::{ErrorBox, action_error};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde_json::{Map, Value};

#[component]
pub fn ApprovalPage() -> impl IntoView {
    let params = use_params_map();
    let decide = ServerAction::<DecideApproval>::new();
    // not refreshed on a timer: that would throw away what is being typed;
    // reloaded after a decision went through, or when someone else's came
    // first (not after a refused one: the reviewer's edits stay)
    let decided = RwSignal::new(0u32);
    Effect::new(move |_| {
        let settled = decide.value().with(|v| match v {
            Some(Ok(_)) => true,
            Some(Err(e)) => e.code == crate::error::ErrorCode::Conflict,
            None => false,
        });
        if settled {
            decided.update(|d| *d += 1);
        }
    });
    let view_res = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), decided.get()),
        |(id, _)| get_approval(id),
    );
    view! {
        <Title text="Approval" />
        <p class="crumbs"><a href="/approvals">"Approvals"</a> " / "</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || view_res.get().map(|r| match r {
                Err(e) => view! { <h1>"Approval"</h1> <ErrorBox error=e /> }.into_any(),
                Ok(v) => view! { <ItemDetail v decide /> }.into_any(),
            })}
        </Transition>
    }
}

/// One form field of the item, writing its answer into `answers`.
fn form_field(
    f: &crate::domain::graph::FormField,
    answers: RwSignal<Map<String, Value>>,
) -> impl IntoView + use<> {
    let name = f.name.clone();
    let set = move |v: Value| {
        answers.update(|a| {
            a.insert(name.clone(), v);
        })
    };
    let label = format!("{}{}", f.label, if f.required { " *" } else { "" });
    match &f.kind {
        FormFieldKind::Boolean => view! {
            <label class="check"><input type="checkbox" on:change=move |ev| set(Value::Bool(event_target_checked(&ev))) /> {label}</label>
        }
        .into_any(),
        FormFieldKind::Choice { options } => view! {
            <label>{label}
                <select on:change=move |ev| set(Value::String(event_target_value(&ev)))>
                    <option value="">"choose…"</option>
                    {options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                </select>
            </label>
        }
        .into_any(),
        FormFieldKind::Number => view! {
            <label>{label}<input type="number" step="any" on:input=move |ev| {
                let t = event_target_value(&ev);
                set(t.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::String(t)));
            } /></label>
        }
        .into_any(),
        FormFieldKind::Json => view! {
            <label>{label}<textarea rows="3" on:input=move |ev| {
                let t = event_target_value(&ev);
                set(serde_json::from_str(&t).unwrap_or(Value::String(t)));
            }></textarea></label>
        }
        .into_any(),
        FormFieldKind::Text => view! {
            <label>{label}<input type="text" on:input=move |ev| set(Value::String(event_target_value(&ev))) /></label>
        }
        .into_any(),
    }
}

/// A changed value as it reads: text without quotes, nothing as "—".
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What the approvers changed: each field before and after (a form
/// answer shows as a field that was "—").
#[component]
fn Changes(before: Value, after: Value) -> impl IntoView {
    let changes = crate::domain::diff::changed_paths(&before, &after);
    (!changes.is_empty()).then(|| {
        view! {
            <h3>"What the approvers changed"</h3>
            <table class="table changes" data-testid="changes">
                <thead><tr><th>"Field"</th><th>"Proposed"</th><th>"Approved"</th></tr></thead>
                <tbody>{changes.into_iter().map(|c| view! {
                    <tr><td><code>{c.path}</code></td><td class="from">{shown(&c.from)}</td><td class="to">{shown(&c.to)}</td></tr>
                }).collect_view()}</tbody>
            </table>
        }
    })
}

#[component]
fn ItemDetail(v: ItemView, decide: ServerAction<DecideApproval>) -> impl IntoView {
    let i = v.item;
    let parent = v.parent;
    let names = v.step_names;
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let steps: Vec<(String, String, Value, Option<f64>)> = i.context["steps"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        name_of(k),
                        s["output"].clone(),
                        s["confidence"].as_f64(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    // confidence only where a step reported one
    let reported = steps.iter().any(|s| s.3.is_some());
    let cum = i.context["cum_confidence"].as_f64().filter(|_| reported);
    // with N-of-M, what earlier approvers left (their edits carry over)
    let edited_before = i.current_output.is_some();
    let start_value = i
        .current_output
        .clone()
        .unwrap_or_else(|| i.proposed.clone());
    let proposed = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let answers = RwSignal::new(Map::<String, Value>::new());
    let id = i.id.clone();
    let send = move |decision: &str| {
        decide.dispatch(DecideApproval {
            id: id.to_string(),
            decision: decision.into(),
            comment: comment.get_untracked(),
            output: proposed.get_untracked(),
            answers: Value::Object(answers.get_untracked()).to_string(),
        });
    };
    let send2 = send.clone();
    let fields = i.form.iter().map(|f| form_field(f, answers)).collect_view();
    let pending = i.status == ItemStatus::Pending;
    let cannot = v.cannot.clone();
    let after = i.final_output.clone();
    let before = i.proposed.clone();
    // a model's proposal: its label or answer, how sure it is, and why
    let model = i.proposed["method"].is_string().then(|| {
        let p = &i.proposed;
        let answer = p["label"].as_str().map(|l| format!("Label: {l}"));
        let sure = crate::ui::components::model_call::confidence_text(
            p["confidence"].as_f64(),
            p["method"].as_str(),
        );
        let reason = p["reason"].as_str().map(str::to_string);
        let model = p["model"].as_str().unwrap_or("").to_string();
        view! {
            <div class="model-answer" data-testid="model-answer">
                <h3>{format!("The model's answer ({model})")}</h3>
                {answer.map(|a| view! { <p><strong>{a}</strong></p> })}
                <p>{sure}</p>
                {reason.map(|r| view! { <p data-testid="model-reason">"Its reasoning: " {r}</p> })}
            </div>
        }
    });
    // where the values up for decision came from
    let lineage: Vec<(String, crate::domain::lineage::Lineage)> = i.context["lineage"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, l)| Some((name_of(k), serde_json::from_value(l.clone()).ok()?)))
                .collect()
        })
        .unwrap_or_default();
    let lineage = (!lineage.is_empty()).then(|| view! {
        <div class="lineage" data-testid="item-lineage">
            <h3>"Where this came from"</h3>
            <ul>{lineage.into_iter().map(|(name, l)| view! {
                <li><strong>{name}</strong> ": " {crate::ui::components::model_call::lineage_line(&l)}</li>
            }).collect_view()}</ul>
        </div>
    });
    view! {
        <div class="page-head">
            <h1>{i.title.clone()}</h1>
            <span class=format!("status status-{}", i.status) data-testid="item-status">{i.status.as_str()}</span>
        </div>
        <p class="muted">
            {format!("{} · {} · ", i.workflow_name, i.node_name)}
            <a href=format!("/runs/{}", i.run_id)>"open the run"</a>
            {format!(" · waiting since {}", format_time(i.created_at))}
            {i.deadline_at.map(|d| format!(" · deadline {}", format_time(d)))}
            {i.escalated_to.clone().map(|r| format!(" · escalated to {r}"))}
        </p>
        {(!i.instructions.is_empty()).then(|| view! { <section class="card instructions"><h2>"Instructions"</h2><p>{i.instructions.clone()}</p></section> })}
        <div class="item-layout">
        <section class="card decide" aria-label="Decision">
            <h2>{if pending { "Your decision" } else { "Decision" }}</h2>
            {(!pending).then(|| view! {
                <p data-testid="decided">{format!("{} by {} at {}", i.status, i.decided_by.clone().unwrap_or_default(), i.decided_at.map(format_time).unwrap_or_default())}
                    {i.comment.clone().filter(|c| !c.is_empty()).map(|c| format!(": {c}"))}</p>
            })}
            {(matches!(i.status, ItemStatus::Approved | ItemStatus::Rejected)
                && crate::ui::auth::can(crate::domain::auth::Permission::EditWorkflows))
                .then(|| view! {
                    <super::golden::SaveAsCase from=super::golden::Source::Item(i.id.to_string()) />
                })}
            {after.clone().map(|a| view! { <Changes before=before.clone() after=a.clone() /> <h3>"Approved output"</h3> <ValueTable value=a label="Approved output" /> })}
            {(pending && cannot.is_some()).then(|| view! { <p class="muted" data-testid="cannot">{cannot.clone()}</p> })}
            {(pending && cannot.is_none()).then(move || view! {
                {edited_before.then(|| view! { <p class="muted" data-testid="edited-before">"An earlier approver edited the proposal; you see and approve it as they left it."</p> })}
                <ValueEditor initial=start_value.clone() out=proposed label="Proposed output" />
                {fields}
                <label>"Comment" <textarea rows="2" prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))></textarea></label>
                <div class="actions sticky-actions">
                    <button class="primary" disabled=move || decide.pending().get() on:click=move |_| send("approve")>"Approve"</button>
                    <button class="danger" disabled=move || decide.pending().get() on:click=move |_| send2("reject")>"Reject"</button>
                </div>
            })}
            {action_error(decide.value())}
            <h3>"Decisions so far"</h3>
            <ul class="decisions">
                {v.decisions.into_iter().map(|d| view! {
                    <li>{format!("{}{} {}{} at {}{}", d.actor, d.via.as_ref().map(|t| format!(" (via {t})")).unwrap_or_default(),
                        if d.decision == "approve" { "approved" } else { "rejected" },
                        if d.output.is_some() { " with edits" } else { "" }, format_time(d.at),
                        if d.comment.is_empty() { String::new() } else { format!(": {}", d.comment) })}</li>
                }).collect_view()}
            </ul>
            <p class="muted">{format!("{} of {} approvals", i.approvals, i.required)}</p>
            <p><a href=format!("/api/v1/approvals/export?workflow_id={}&node_id={}", i.workflow_id, i.node_id) download="">
                "Export this step's decisions (JSONL)"</a></p>
        </section>
        <section class="card" aria-label="Context">
            <h2>"What led here"</h2>
            {parent.map(|p| view! {
                <div class="parent-run" data-testid="parent-context">
                    <p>{match p.item_index {
                        Some(n) => format!("Item {n} of step {} of a run of {}: ", p.node_id, p.workflow_name),
                        None => format!("Started by step {} of a run of {}: ", p.node_id, p.workflow_name),
                    }}<a data-testid="parent-run" href=format!("/runs/{}", p.run_id)>"open that run"</a></p>
                    <h3>"Its input"</h3>
                    <ValueTable value=p.input label="Parent run input" />
                </div>
            })}
            {cum.map(|c| view! { <p>"Cumulative confidence: " <strong data-testid="cum-confidence">{format!("{c:.3}")}</strong></p> })}
            {model}
            {lineage}
            <h3>"Run input"</h3>
            <ValueTable value=i.context["input"].clone() label="Run input" />
            <h3>"Earlier steps"</h3>
            {steps.into_iter().map(|(k, name, o, c)| view! {
                <div class="step-output" data-step=k.clone()>
                    <h4>{name} " " <code class="muted small">{k.clone()}</code>
                        {c.map(|c| view! { <span class="muted small">{format!(" · confidence {c:.3}")}</span> })}</h4>
                    <ValueTable value=o label=format!("Output of {k}") />
                </div>
            }).collect_view()}
        </section>
        </div>
    }
}
