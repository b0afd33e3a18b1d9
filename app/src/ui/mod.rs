//! The browser UI: the app shell, routes and pages.

pub mod auth;
pub mod components;
pub mod designer;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet id="leptos" options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    auth::provide_me();
    // Effects run only in the browser, so this flips once hydration is done;
    // tests wait for it before they interact.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title formatter=|page: String| if page.is_empty() { "Stepwise".to_string() } else { format!("{page} · Stepwise") } />
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().to_string()>
                <header class="topbar">
                    <a class="brand" href="/">
                        <span class="brand-mark" aria-hidden="true">"◆"</span>
                        "Stepwise"
                    </a>
                    {auth::me().is_some().then(|| view! {
                        <nav class="mainnav" aria-label="Main">
                            <A href="/workflows">"Workflows"</A>
                            <A href="/runs">"Runs"</A>
                            <A href="/approvals">"Approvals" <pages::approvals::ApprovalsBadge /></A>
                            <A href="/audit">"Audit"</A>
                        </nav>
                    })}
                    <auth::UserMenu />
                </header>
                <main class="content">
                    <Routes fallback=pages::NotFound>
                        <Route path=path!("/") view=pages::workflows::WorkflowsPage />
                        <Route path=path!("/workflows") view=pages::workflows::WorkflowsPage />
                        <Route path=path!("/workflows/:id") view=pages::workflow::WorkflowPage />
                        <Route path=path!("/workflows/:id/monitoring") view=pages::monitoring::MonitoringPage />
                        <Route path=path!("/runs") view=pages::runs::RunsPage />
                        <Route path=path!("/runs/:id") view=pages::run_page::RunPage />
                        <Route path=path!("/approvals") view=pages::approvals::ApprovalsPage />
                        <Route path=path!("/approvals/:id") view=pages::approval_item::ApprovalPage />
                        <Route path=path!("/audit") view=pages::audit::AuditPage />
                        <Route path=path!("/settings") view=pages::settings::SettingsPage />
                        <Route path=path!("/api") view=pages::api_reference::ApiReferencePage />
                        <Route path=path!("/login") view=auth::LoginPage />
                        <Route path=path!("/setup") view=auth::SetupPage />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
