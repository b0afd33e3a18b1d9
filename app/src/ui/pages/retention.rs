//! How long a workflow's finished runs are kept: shown to everyone, set by
//! administrators (empty: the instance default, `--retention-days`).

use crate::api::workflows::{SetRetention, get_retention};
use crate::domain::auth::Permission;
use crate::ui::auth::can;
use crate::ui::components::action_error;
use leptos::prelude::*;

#[component]
pub fn RetentionPanel(workflow_id: String) -> impl IntoView {
    let set = ServerAction::<SetRetention>::new();
    let wf = workflow_id.clone();
    let days = Resource::new(
        move || set.version().get(),
        move |_| get_retention(wf.clone()),
    );
    let admin = can(Permission::Administer);
    view! {
        <section class="card retention" aria-label="Retention">
            <h2>"Retention"</h2>
            // everything that reads the setting waits for it inside the
            // Transition (read outside, the server's page and the
            // browser's first render differ and hydration breaks)
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || days.get().map(|r| {
                    let (said, value) = match r {
                        Ok(Some(d)) => (
                            format!("Finished runs are deleted {d} day{} after they end; the audit trail is kept.", if d == 1 { "" } else { "s" }),
                            d.to_string(),
                        ),
                        Ok(None) => (
                            "Finished runs are kept as the instance says (its --retention-days; 0 keeps them for ever).".to_string(),
                            String::new(),
                        ),
                        Err(e) => (e.message, String::new()),
                    };
                    let id = workflow_id.clone();
                    view! {
                        <p class="muted" data-testid="retention">{said}</p>
                        {admin.then(|| view! {
                            <ActionForm action=set attr:class="inline-form compact" attr:aria-label="Set retention">
                                <input type="hidden" name="id" value=id />
                                <label>"Keep finished runs (days; empty: the instance default)"
                                    <input type="number" name="days" min="1" max="36500" value=value /></label>
                                <button type="submit" disabled=move || set.pending().get()>"Save retention"</button>
                            </ActionForm>
                        })}
                    }
                })}
            </Transition>
            {action_error(set.value())}
        </section>
    }
}
