//! Settings for admins: users and their roles, API tokens, secrets, model
//! connections.

use crate::api::accounts::*;
use crate::domain::auth::ROLES;
use crate::domain::records::format_time;
use crate::ui::components::{EmptyState, action_error, resource_list};
use leptos::prelude::*;
use leptos_meta::Title;

fn role_options(selected: &str) -> impl IntoView + use<> {
    let selected = selected.to_string();
    ROLES
        .iter()
        .map(|r| {
            let r = r.as_str();
            view! { <option value=r selected=r == selected>{r}</option> }
        })
        .collect_view()
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        <Users />
        <Tokens />
        <Secrets />
        <super::notifications::Notifications />
        <super::models::ModelConnections />
    }
}

#[component]
fn Users() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let contact = ServerAction::<crate::api::notify::SetContact>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                contact.version().get(),
            )
        },
        |_| list_users(),
    );
    view! {
        <section class="card" aria-label="Users">
            <h2>"Users"</h2>
            <ActionForm action=create attr:class="inline-form" attr:aria-label="New user">
                <label>"Username" <input type="text" name="username" required /></label>
                <label>"Display name" <input type="text" name="display_name" /></label>
                <label>"Password" <input type="password" name="password" required minlength="10" autocomplete="new-password" /></label>
                <label>"Role" <select name="role">{role_options("viewer")}</select></label>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Add user"</button>
            </ActionForm>
            {action_error(create.value())}
            {action_error(update.value())}
            {action_error(contact.value())}
            {resource_list(users, || view! { <EmptyState title="No users"><p>"Add one above."</p></EmptyState> }.into_any(),
                move |list| view! {
                    <table class="table users">
                        <thead><tr><th>"User"</th><th>"Role"</th><th>"Email and notifications"</th><th>"Status"</th><th>"Since"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|u| {
                                let (id_r, id_d) = (u.id.clone(), u.id.clone());
                                let disabled = u.disabled;
                                let contact_row = contact_cell(&u, contact);
                                view! {
                                    <tr data-user=u.username.clone()>
                                        <td>{u.display_name.clone()} <code class="muted">{u.username.clone()}</code></td>
                                        <td>
                                            <select aria-label=format!("Role of {}", u.username)
                                                on:change=move |ev| { update.dispatch(UpdateUser { id: id_r.clone(), role: Some(event_target_value(&ev)), disabled: None }); }>
                                                {role_options(u.role.as_str())}
                                            </select>
                                        </td>
                                        <td>{contact_row}</td>
                                        <td>{if disabled { "disabled" } else { "active" }}</td>
                                        <td>{format_time(u.created_at)}</td>
                                        <td><button class="link" on:click=move |_| { update.dispatch(UpdateUser { id: id_d.clone(), role: None, disabled: Some(!disabled) }); }>
                                            {if disabled { "Enable" } else { "Disable" }}</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any())}
        </section>
    }
}

/// A person's address and how often they hear, saved as either changes.
fn contact_cell(
    u: &UserView,
    action: ServerAction<crate::api::notify::SetContact>,
) -> impl IntoView + use<> {
    use crate::domain::notify::NotifyPref;
    let id = u.id.clone();
    let email = RwSignal::new(u.email.clone().unwrap_or_default());
    let pref = RwSignal::new(u.notify.clone());
    let save = move || {
        action.dispatch(crate::api::notify::SetContact {
            id: id.clone(),
            email: email.get_untracked(),
            notify: pref.get_untracked(),
        });
    };
    let save2 = save.clone();
    let name = u.username.clone();
    view! {
        <span class="contact">
            <input type="email" placeholder="name@example.com" aria-label=format!("Email of {name}")
                prop:value=move || email.get()
                on:change=move |ev| { email.set(event_target_value(&ev)); save(); } />
            <select aria-label=format!("Notifications of {name}")
                on:change=move |ev| { pref.set(event_target_value(&ev)); save2(); }>
                {NotifyPref::ALL.into_iter().map(|p| view! {
                    <option value=p.as_str() selected=move || pref.get() == p.as_str()>{p.describe()}</option>
                }).collect_view()}
            </select>
        </span>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <section class="card" aria-label="API tokens">
            <h2>"API tokens"</h2>
            <p class="muted">"For programs calling the REST API: send " <code>"Authorization: Bearer <token>"</code> ". A token acts with its role; it is shown once, stored only as a hash, and can be revoked. What it can call: the "<a href="/api">"API reference"</a>"."</p>
            <ActionForm action=create attr:class="inline-form" attr:aria-label="New API token">
                <label>"Name" <input type="text" name="name" required placeholder="e.g. billing system" /></label>
                <label>"Role" <select name="role">{role_options("viewer")}</select></label>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create token"</button>
            </ActionForm>
            {action_error(create.value())}
            {action_error(revoke.value())}
            {move || create.value().get().and_then(|r| r.ok()).map(|secret| view! {
                <div class="new-token" role="status">
                    <p><strong>"Copy this token now; it will not be shown again:"</strong></p>
                    <code data-testid="new-token">{secret}</code>
                </div>
            })}
            {resource_list(tokens, || view! { <EmptyState title="No API tokens"><p>"Create one above."</p></EmptyState> }.into_any(),
                move |list| view! {
                    <table class="table tokens">
                        <thead><tr><th>"Name"</th><th>"Role"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|t| {
                                let id = t.id.clone();
                                view! {
                                    <tr data-token=t.name.clone()>
                                        <td>{t.name.clone()} <code class="muted">{t.id.clone()}</code></td>
                                        <td>{t.role.clone()}</td>
                                        <td>{format_time(t.created_at)} " by " {t.created_by.clone()}</td>
                                        <td>{t.last_used_at.map(format_time).unwrap_or_else(|| "never".into())}</td>
                                        <td>{if t.revoked_at.is_some() {
                                            view! { <span class="muted">"revoked"</span> }.into_any()
                                        } else {
                                            view! { <button class="link danger" on:click=move |_| { revoke.dispatch(RevokeToken { id: id.clone() }); }>"Revoke"</button> }.into_any()
                                        }}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any())}
        </section>
    }
}

#[component]
fn Secrets() -> impl IntoView {
    let set = ServerAction::<SetSecret>::new();
    let delete = ServerAction::<DeleteSecret>::new();
    let secrets = Resource::new(
        move || (set.version().get(), delete.version().get()),
        |_| list_secrets(),
    );
    view! {
        <section class="card" aria-label="Secrets">
            <h2>"Secrets"</h2>
            <p class="muted">"Use them in Http steps as " <code>"{{ secrets.NAME }}"</code> ". Values are stored encrypted, never shown again, and replaced by " <code>"[secret]"</code> " in logs. Each secret is sent only to the hosts it lists."</p>
            <ActionForm action=set attr:class="inline-form" attr:aria-label="Save a secret">
                <label>"Name" <input type="text" name="name" required placeholder="LEDGER_API_KEY" /></label>
                <label>"Value" <input type="password" name="value" required autocomplete="off" /></label>
                <label>"Allowed hosts" <input type="text" name="hosts" required placeholder="ledger.example.com, *.corp.example" /></label>
                <button type="submit" class="primary" disabled=move || set.pending().get()>"Save secret"</button>
            </ActionForm>
            {action_error(set.value())}
            {action_error(delete.value())}
            {resource_list(secrets, || view! { <EmptyState title="No secrets"><p>"Save one above."</p></EmptyState> }.into_any(),
                move |list| view! {
                    <table class="table secrets">
                        <thead><tr><th>"Name"</th><th>"Allowed hosts"</th><th>"Updated"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|s| {
                                let name = s.name.clone();
                                view! {
                                    <tr data-secret=s.name.clone()>
                                        <td><code>{s.name.clone()}</code></td>
                                        <td>{if s.hosts.is_empty() { "none: name its hosts to use it".to_string() } else { s.hosts.clone() }}</td>
                                        <td>{format_time(s.updated_at)} " by " {s.updated_by.clone()}</td>
                                        <td><button class="link danger" on:click=move |_| { delete.dispatch(DeleteSecret { name: name.clone() }); }>"Delete"</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any())}
        </section>
    }
}
