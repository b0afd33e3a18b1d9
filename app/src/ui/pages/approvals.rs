//! The approval inbox: what the signed-in person may decide (most urgent
//! first, with filters), the history, and one item with everything needed
//! to decide it. Lists refresh themselves every few seconds.

use crate::api::approvals::{DecideApproval, ItemView, get_approval, list_approvals};
use crate::domain::approvals::{ApprovalFilter, ApprovalItem};
use crate::domain::graph::FormFieldKind;
use crate::domain::records::format_time;
use crate::ui::components::live::live;
use crate::ui::components::{EmptyState, ErrorBox, action_error};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde_json::{Map, Value};

fn overdue(i: &ApprovalItem, now: i64) -> bool {
    i.deadline_at.is_some_and(|d| d < now)
}

fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// The number of items waiting for the signed-in person, for the nav.
#[component]
pub fn ApprovalsBadge() -> impl IntoView {
    let tick = live("approvals", 30_000);
    let waiting = Resource::new(
        move || tick.get(),
        |_| {
            list_approvals(ApprovalFilter {
                limit: 0,
                ..Default::default()
            })
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || waiting.get().and_then(|r| r.ok()).map(|p| p.total).filter(|n| *n > 0).map(|n| view! {
                <span class="count" data-testid="approvals-badge" aria-label=format!("{n} waiting")>{n}</span>
            })}
        </Transition>
    }
}

/// Items per page of the inbox and the history.
const PAGE: i64 = 50;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let history = RwSignal::new(false);
    let workflow = RwSignal::new(String::new());
    let step = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let only_overdue = RwSignal::new(false);
    let offset = RwSignal::new(0_i64);
    // A new question starts at its first page.
    Effect::watch(
        move || {
            (
                history.get(),
                workflow.get(),
                step.get(),
                reason.get(),
                only_overdue.get(),
            )
        },
        move |_, _, _| offset.set(0),
        false,
    );
    let tick = live("approvals", 30_000);
    let filter = move || ApprovalFilter {
        status: if history.get() { "decided" } else { "pending" }.into(),
        workflow: Some(workflow.get()),
        step: Some(step.get()),
        reason: Some(reason.get()),
        overdue: only_overdue.get() && !history.get(),
        limit: PAGE,
        offset: offset.get(),
        ..Default::default()
    };
    let items = Resource::new(move || (filter(), tick.get()), |(f, _)| list_approvals(f));
    let filtered = move || {
        !workflow.get().trim().is_empty()
            || !step.get().trim().is_empty()
            || !reason.get().is_empty()
            || only_overdue.get()
    };
    view! {
        <Title text="Approvals" />
        <div class="page-head"><h1>"Approvals"</h1></div>
        <div class="tabs" role="tablist">
            <button role="tab" aria-selected=move || (!history.get()).to_string() on:click=move |_| history.set(false)>"To decide"</button>
            <button role="tab" aria-selected=move || history.get().to_string() on:click=move |_| history.set(true)>"History"</button>
        </div>
        <div class="filters" role="group" aria-label="Filters">
            <label>"Workflow" <input type="search" prop:value=move || workflow.get() on:input=move |ev| workflow.set(event_target_value(&ev)) /></label>
            <label>"Step" <input type="search" prop:value=move || step.get() on:input=move |ev| step.set(event_target_value(&ev)) /></label>
            <label>"Reason"
                <select on:change=move |ev| reason.set(event_target_value(&ev))>
                    <option value="">"any"</option>
                    <option value="approval">"approval step"</option>
                    <option value="confidence">"confidence gate"</option>
                </select>
            </label>
            <label class="check" style:display=move || if history.get() { "none" } else { "" }><input type="checkbox" on:change=move |ev| only_overdue.set(event_target_checked(&ev)) /> "Overdue only"</label>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || items.get().map(|r| match r {
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                Ok(page) => {
                    let h = history.get_untracked();
                    if page.items.is_empty() {
                        return if filtered() {
                            view! {
                                <EmptyState title="Nothing matches these filters">
                                    <p>"Clear a filter to see more."</p>
                                </EmptyState>
                            }.into_any()
                        } else if h {
                            view! {
                                <EmptyState title="Nothing decided yet">
                                    <p>"Decisions show up here with who made them, when and why."</p>
                                </EmptyState>
                            }.into_any()
                        } else {
                            view! {
                                <EmptyState title="Nothing waits for you">
                                    <p>"When a run reaches an approval step you may decide, it shows up here."</p>
                                </EmptyState>
                            }.into_any()
                        };
                    }
                    let now = now_ms();
                    let first = offset.get_untracked();
                    let last = first + page.items.len() as i64;
                    let total = page.total;
                    view! {
                        <p class="counts" data-testid="approvals-shown">
                            {if first == 0 && last == total { format!("{total} item{}", if total == 1 { "" } else { "s" }) }
                             else { format!("{}–{last} of {total}", first + 1) }}
                        </p>
                        <table class="table approvals">
                            <thead><tr><th>"Item"</th><th>"Workflow"</th><th>"Step"</th><th>"Reason"</th>
                                <th>{if h { "Decided" } else { "Waiting since" }}</th><th>{if h { "By" } else { "Deadline" }}</th></tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|i| {
                                    let late = overdue(&i, now) && !h;
                                    view! {
                                        <tr data-item=i.id.to_string() class:overdue=late>
                                            <td><a href=format!("/approvals/{}", i.id)>{i.title.clone()}</a>
                                                {h.then(|| view! { " " <span class=format!("status status-{}", i.status)>{i.status.as_str()}</span> })}
                                                {h.then(|| i.comment.clone().filter(|c| !c.is_empty()).map(|c| view! { <div class="muted comment">{c}</div> }))}</td>
                                            <td>{i.workflow_name.clone()}</td>
                                            <td>{i.node_name.clone()}</td>
                                            <td>{if i.reason == "confidence" { "confidence gate" } else { "approval step" }}</td>
                                            <td>{format_time(if h { i.decided_at.unwrap_or(i.created_at) } else { i.created_at })}</td>
                                            <td>{if h { i.decided_by.clone().unwrap_or_default() } else {
                                                i.deadline_at.map(format_time).map(|t| if late { format!("overdue since {t}") } else { t }).unwrap_or_else(|| "none".into())
                                            }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <div class="pager">
                            {(first > 0).then(|| view! { <button on:click=move |_| offset.update(|o| *o = (*o - PAGE).max(0))>"Previous page"</button> })}
                            {(last < total).then(|| view! { <button on:click=move |_| offset.update(|o| *o += PAGE)>"Next page"</button> })}
                        </div>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[component]
pub fn ApprovalPage() -> impl IntoView {
    let params = use_params_map();
    let decide = ServerAction::<DecideApproval>::new();
    // not refreshed on a timer: that would throw away what is being typed;
    // a decision someone else made first is reported when this one is sent
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

#[component]
fn ItemDetail(v: ItemView, decide: ServerAction<DecideApproval>) -> impl IntoView {
    let i = v.item;
    let steps: Vec<(String, Value, Value)> = i.context["steps"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, s)| (k.clone(), s["output"].clone(), s["confidence"].clone()))
                .collect()
        })
        .unwrap_or_default();
    // with N-of-M, what earlier approvers left (their edits carry over)
    let edited_before = i.current_output.is_some();
    let proposed = RwSignal::new(pretty(i.current_output.as_ref().unwrap_or(&i.proposed)));
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
    let fields = i
        .form
        .iter()
        .map(|f| {
            let name = f.name.clone();
            let set = move |v: Value| answers.update(|a| {
                a.insert(name.clone(), v);
            });
            let label = format!("{}{}", f.label, if f.required { " *" } else { "" });
            match &f.kind {
                FormFieldKind::Boolean => view! {
                    <label class="check"><input type="checkbox" on:change=move |ev| set(Value::Bool(event_target_checked(&ev))) /> {label}</label>
                }.into_any(),
                FormFieldKind::Choice { options } => view! {
                    <label>{label}
                        <select on:change=move |ev| set(Value::String(event_target_value(&ev)))>
                            <option value="">"choose…"</option>
                            {options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                }.into_any(),
                FormFieldKind::Number => view! {
                    <label>{label}<input type="number" step="any" on:input=move |ev| {
                        let t = event_target_value(&ev);
                        set(t.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::String(t)));
                    } /></label>
                }.into_any(),
                FormFieldKind::Json => view! {
                    <label>{label}<textarea rows="3" on:input=move |ev| {
                        let t = event_target_value(&ev);
                        set(serde_json::from_str(&t).unwrap_or(Value::String(t)));
                    }></textarea></label>
                }.into_any(),
                FormFieldKind::Text => view! {
                    <label>{label}<input type="text" on:input=move |ev| set(Value::String(event_target_value(&ev))) /></label>
                }.into_any(),
            }
        })
        .collect_view();
    let pending = i.status == crate::domain::run::ItemStatus::Pending;
    let cannot = v.cannot.clone();
    view! {
        <div class="page-head">
            <h1>{i.title.clone()}</h1>
            <span class=format!("status status-{}", i.status) data-testid="item-status">{i.status.as_str()}</span>
        </div>
        <p class="muted">
            {format!("{} · step {} · ", i.workflow_name, i.node_name)}
            <a href=format!("/runs/{}", i.run_id)>"open the run"</a>
            {format!(" · waiting since {}", format_time(i.created_at))}
            {i.deadline_at.map(|d| format!(" · deadline {}", format_time(d)))}
            {i.escalated_to.clone().map(|r| format!(" · escalated to {r}"))}
        </p>
        {(!i.instructions.is_empty()).then(|| view! { <section class="card instructions"><h2>"Instructions"</h2><p>{i.instructions.clone()}</p></section> })}
        <section class="card" aria-label="Context">
            <h2>"What led here"</h2>
            <p>"Cumulative confidence: " <strong data-testid="cum-confidence">{i.context["cum_confidence"].as_f64().map(|c| format!("{c:.3}")).unwrap_or_else(|| "not reported".into())}</strong></p>
            <h3>"Run input"</h3>
            <pre class="json">{pretty(&i.context["input"])}</pre>
            <h3>"Earlier steps"</h3>
            <table class="table"><thead><tr><th>"Step"</th><th>"Output"</th><th>"Confidence"</th></tr></thead>
                <tbody>{steps.into_iter().map(|(k, o, c)| view! {
                    <tr data-step=k.clone()><td><code>{k.clone()}</code></td><td><pre class="json small">{pretty(&o)}</pre></td>
                        <td>{c.as_f64().map(|c| format!("{c:.3}")).unwrap_or_else(|| "—".into())}</td></tr>
                }).collect_view()}</tbody>
            </table>
        </section>
        <section class="card decide" aria-label="Decision">
            <h2>{if pending { "Your decision" } else { "Decision" }}</h2>
            {(!pending).then(|| view! {
                <p data-testid="decided">{format!("{} by {} at {}", i.status, i.decided_by.clone().unwrap_or_default(), i.decided_at.map(format_time).unwrap_or_default())}
                    {i.comment.clone().filter(|c| !c.is_empty()).map(|c| format!(": {c}"))}</p>
            })}
            {(pending && cannot.is_some()).then(|| view! { <p class="muted" data-testid="cannot">{cannot.clone()}</p> })}
            {(pending && cannot.is_none()).then(move || view! {
                {edited_before.then(|| view! { <p class="muted" data-testid="edited-before">"An earlier approver edited the proposal; you see and approve it as they left it."</p> })}
                <label>"Proposed output (edit before approving if needed)"
                    <textarea rows="8" spellcheck="false" prop:value=move || proposed.get() on:input=move |ev| proposed.set(event_target_value(&ev))></textarea>
                </label>
                {fields}
                <label>"Comment" <textarea rows="2" prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))></textarea></label>
                <div class="actions">
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
    }
}
