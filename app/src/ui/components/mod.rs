//! Small pieces shared by the pages.

use crate::error::AppError;
use leptos::prelude::*;

/// An honest empty state: what this place is for and what to do next.
#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{title}</h2>
            <div class="empty-body">{children()}</div>
        </section>
    }
}

/// Shows an error the server returned, with its problems if any.
#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let problems = error.problems.clone();
    view! {
        <div class="error-box" role="alert">
            <p>{error.message.clone()}</p>
            <Show when={
                let empty = problems.is_empty();
                move || !empty
            }>
                <ul>
                    {problems.iter().map(|p| view! { <li>{p.message.clone()}</li> }).collect_view()}
                </ul>
            </Show>
        </div>
    }
}

/// The result of the last action, if it failed.
pub fn action_error<T, S>(value: S) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(e)) => Some(view! { <ErrorBox error=e /> }),
        _ => None,
    }
}
