//! The signed-in person in the UI: shared from the server's render into
//! the browser, used to hide what the role may not do (the server refuses
//! it anyway), and the sign-in and owner-setup pages.

use crate::api::accounts::{SetupOwner, SignIn, SignOut};
use crate::domain::auth::{Permission, Principal};
use crate::ui::components::action_error;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Who is signed in (None on the sign-in and setup pages).
#[derive(Clone, Debug)]
pub struct Me(pub Option<Principal>);

/// Makes the signed-in person known to every page.
pub fn provide_me() {
    let me = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            crate::api::caller()
        }
        #[cfg(not(feature = "ssr"))]
        {
            None::<Principal>
        }
    });
    provide_context(Me(me.into_inner()));
}

pub fn me() -> Option<Principal> {
    use_context::<Me>().and_then(|m| m.0)
}

/// Whether the signed-in person's role allows `p`.
pub fn can(p: Permission) -> bool {
    me().is_some_and(|m| m.can(p))
}

/// Goes to `to` with a full page load, so the next page is rendered for
/// the new session.
fn reload_to(to: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().assign(to);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = to;
}

/// Where to go after signing in: the `next` page if it is a path on this
/// site. Browsers read `/\host` and `/<tab>/host` as another host (a backslash
/// counts as a slash, tabs and newlines are dropped), so any backslash or
/// control character disqualifies it.
fn next_page(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.chars().any(|c| c == '\\' || c.is_control())
    })
    .unwrap_or_else(|| "/workflows".into())
}

#[component]
pub fn UserMenu() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            reload_to("/login");
        }
    });
    me().map(|m| {
        let admin = m.can(Permission::Administer);
        view! {
            <div class="user-menu">
                {admin.then(|| view! { <a href="/settings">"Settings"</a> })}
                <span class="who" data-testid="me">{m.display_name.clone()} " " <span class="role">{m.role.to_string()}</span></span>
                <button class="link" on:click=move |_| { sign_out.dispatch(SignOut {}); }>"Sign out"</button>
            </div>
        }
    })
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let query = use_query_map();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_in.value().get() {
            reload_to(&next_page(query.read_untracked().get("next")));
        }
    });
    view! {
        <Title text="Sign in" />
        <div class="auth-page">
            <h1>"Sign in to Stepwise"</h1>
            <ActionForm action=sign_in attr:class="card auth-form" attr:aria-label="Sign in">
                <label>"Username" <input type="text" name="username" autocomplete="username" required autofocus /></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required /></label>
                <button type="submit" class="primary" disabled=move || sign_in.pending().get()>"Sign in"</button>
            </ActionForm>
            {action_error(sign_in.value())}
        </div>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<SetupOwner>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = setup.value().get() {
            reload_to("/workflows");
        }
    });
    view! {
        <Title text="Create the owner account" />
        <div class="auth-page">
            <h1>"Create the owner account"</h1>
            <p class="muted">
                "This instance has no accounts yet. The first account is its owner, an admin: it adds the other people and gives them roles."
            </p>
            <ActionForm action=setup attr:class="card auth-form" attr:aria-label="Create the owner account">
                <label>"Username" <input type="text" name="username" autocomplete="username" required autofocus /></label>
                <label>"Display name" <input type="text" name="display_name" autocomplete="name" /></label>
                <label>"Password (at least 10 characters)"
                    <input type="password" name="password" autocomplete="new-password" required />
                </label>
                <button type="submit" class="primary" disabled=move || setup.pending().get()>"Create and sign in"</button>
            </ActionForm>
            {action_error(setup.value())}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_pages_are_followed_after_sign_in() {
        assert_eq!(next_page(Some("/runs/r1".into())), "/runs/r1");
        assert_eq!(next_page(Some("//evil.example".into())), "/workflows");
        assert_eq!(next_page(Some("https://evil.example".into())), "/workflows");
        assert_eq!(next_page(None), "/workflows");
        // regression: a backslash after the slash is another host to a browser
        assert_eq!(next_page(Some("/\\evil.example".into())), "/workflows");
        assert_eq!(next_page(Some("/\\/evil.example".into())), "/workflows");
        assert_eq!(next_page(Some("/\t/evil.example".into())), "/workflows");
        assert_eq!(next_page(Some("/runs?x=a\\b".into())), "/workflows");
    }
}
