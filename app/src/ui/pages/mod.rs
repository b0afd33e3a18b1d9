//! One module per page.

pub mod alert_rules;
pub mod api_reference;
pub mod approval_item;
pub mod approvals;
pub mod audit;
pub mod golden;
pub mod golden_cases;
pub mod models;
pub mod monitoring;
pub mod notifications;
pub mod retention;
pub mod run_items;
pub mod run_page;
pub mod runs;
pub mod settings;
pub mod timeline;
pub mod triggers;
pub mod workflow;
pub mod workflows;

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Not found" />
        <h1>"Page not found"</h1>
        <p>"There is nothing at this address. " <a href="/workflows">"Go to the workflows"</a> "."</p>
    }
}
