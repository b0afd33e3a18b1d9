//! The audit trail, newest first.

use crate::api::audit::list_audit_events;
use crate::domain::records::format_time;
use crate::ui::components::{EmptyState, resource_list};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    let events = Resource::new(|| (), |_| list_audit_events());
    view! {
        <Title text="Audit" />
        <h1>"Audit trail"</h1>
        <p class="muted">"Every change, with who made it and when. The newest 200 events are shown."</p>
        {resource_list(
            events,
            || view! {
                <EmptyState title="No events yet"><p>"Changes to workflows will be recorded here."</p></EmptyState>
            }.into_any(),
            |list| view! {
                <table class="table audit">
                    <thead><tr><th>"#"</th><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Entity"</th><th>"Details"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|e| view! {
                            <tr>
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
