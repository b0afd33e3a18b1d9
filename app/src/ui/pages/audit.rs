//! The audit trail: filter by who, what, which entity or run and when;
//! verify the hash chain; export what is shown as CSV or JSONL.

use crate::api::audit::{VerifyAudit, list_audit_events};
use crate::domain::audit::AuditFilter;
use crate::domain::records::format_time;
use crate::ui::components::{EmptyState, action_error, day_ms, resource_list};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let field =
        |name: &'static str| RwSignal::new(query.read_untracked().get(name).unwrap_or_default());
    let (actor, action, entity, run, from, to) = (
        field("actor"),
        field("action"),
        field("entity"),
        field("run"),
        field("from"),
        field("to"),
    );
    let filter = Memo::new(move |_| {
        AuditFilter {
            actor: Some(actor.get()),
            action: Some(action.get()),
            entity: Some(entity.get()),
            run_id: Some(run.get()),
            from: day_ms(&from.get()),
            // the whole "to" day
            to: day_ms(&to.get()).map(|d| d + 86_400_000),
            before_seq: None,
        }
        .cleaned()
    });
    let events = Resource::new(move || filter.get(), list_audit_events);
    let verify = ServerAction::<VerifyAudit>::new();
    let anchor = RwSignal::new(String::new());
    let export = move |format: &str| {
        let f = filter.get();
        let mut q = vec![format!("format={format}")];
        for (k, v) in [
            ("actor", f.actor),
            ("action", f.action),
            ("entity", f.entity),
            ("run_id", f.run_id),
        ] {
            if let Some(v) = v {
                q.push(format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC)
                ));
            }
        }
        for (k, v) in [("from", f.from), ("to", f.to)] {
            if let Some(v) = v {
                q.push(format!("{k}={v}"));
            }
        }
        format!("/api/v1/audit?{}", q.join("&"))
    };
    let input = |label: &'static str, sig: RwSignal<String>, kind: &'static str| {
        view! {
            <label>{label}
                <input type=kind prop:value=move || sig.get() on:change=move |ev| sig.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <Title text="Audit" />
        <div class="page-head">
            <h1>"Audit trail"</h1>
            <div class="verify">
                <label>"Anchor" <input type="text" placeholder="seq:hash from an earlier check (optional)" prop:value=move || anchor.get() on:input=move |ev| anchor.set(event_target_value(&ev)) /></label>
                <button on:click=move |_| { verify.dispatch(VerifyAudit { anchor: anchor.get_untracked() }); } disabled=move || verify.pending().get()>"Verify the chain"</button>
            </div>
        </div>
        {move || verify.value().get().and_then(|r| r.ok()).map(|r| match r.broken_at {
            None => view! {
                <div class="note ok" role="status" data-testid="verify">
                    <p>{format!("Intact: all {} events check out (every hash recomputed).", r.events)}</p>
                    {r.head.map(|h| view! {
                        <p>"Head: " <code data-testid="audit-head">{h}</code>
                            <br/><span class="muted">"Keep it somewhere else; given later as the anchor, it shows whether newer events were removed."</span></p>
                    })}
                </div>
            }.into_any(),
            Some(seq) => view! { <p class="error-box" role="alert" data-testid="verify">{format!("Broken at event {seq}: {}", r.reason.unwrap_or_default())}</p> }.into_any(),
        })}
        {action_error(verify.value())}
        <div class="filters" role="group" aria-label="Filters">
            {input("Who", actor, "text")}
            {input("Action", action, "text")}
            {input("Entity", entity, "text")}
            {input("Run", run, "text")}
            {input("From", from, "date")}
            {input("To", to, "date")}
            <a class="button" href=move || export("csv") download="">"Export CSV"</a>
            <a class="button" href=move || export("jsonl") download="">"Export JSONL"</a>
        </div>
        <p class="muted">"Every change, with who made it and when; the newest 200 matching events are shown."</p>
        {resource_list(
            events,
            || view! {
                <EmptyState title="No events"><p>"Nothing matches these filters."</p></EmptyState>
            }.into_any(),
            |list| view! {
                <table class="table audit">
                    <thead><tr><th>"#"</th><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Entity"</th><th>"Details"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|e| view! {
                            <tr data-seq=e.seq>
                                <td>{e.seq}</td>
                                <td>{format_time(e.at)}</td>
                                <td>{e.actor}</td>
                                <td><code>{e.action}</code></td>
                                <td><code>{e.entity}</code></td>
                                <td class="details"><code>{e.details.to_string()}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        )}
    }
}
