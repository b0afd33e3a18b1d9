//! The approval inbox: what the signed-in person may decide (most urgent
//! first, with filters) and the history (one item: `approval_item.rs`).
//! Lists refresh themselves every few seconds.

use crate::api::approvals::list_approvals;
use crate::domain::approvals::{ApprovalFilter, ApprovalItem};
use crate::domain::records::format_time;
use crate::ui::components::live::live;
use crate::ui::components::{EmptyState, ErrorBox};
use leptos::prelude::*;
use leptos_meta::Title;

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
