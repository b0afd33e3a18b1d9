//! Small pieces shared by the pages.

use crate::error::AppError;
pub mod charts;
pub mod console;
pub mod live;
pub mod model_call;
pub mod schema_form;
pub mod values;

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

/// A list loaded from the server: a loading line while it comes, an empty
/// state when there is nothing, the table otherwise, or the error.
pub fn resource_list<T, F>(
    resource: Resource<Result<Vec<T>, AppError>>,
    empty: fn() -> AnyView,
    table: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(Vec<T>) -> AnyView + Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {
                let table = table.clone();
                move || {
                    resource
                        .get()
                        .map(|r| match r {
                            Ok(list) if list.is_empty() => empty(),
                            Ok(list) => table(list),
                            Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                        })
                }
            }
        </Transition>
    }
}

/// A `<details>` whose content is built only when first opened, so a
/// long listing costs nothing until someone asks for it.
#[component]
pub fn LazyDetails(summary: String, children: ChildrenFn) -> impl IntoView {
    let opened = RwSignal::new(false);
    view! {
        <details class="card" on:toggle=move |_| opened.set(true)>
            <summary>{summary}</summary>
            <Show when=move || opened.get()>{children()}</Show>
        </details>
    }
}

/// `2026-11-24` (a date input) as milliseconds at 00:00 UTC.
pub fn day_ms(s: &str) -> Option<i64> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_utc_midnight() {
        assert_eq!(super::day_ms("2026-11-24"), Some(1_795_478_400_000));
        assert_eq!(super::day_ms("yesterday"), None);
    }
}
