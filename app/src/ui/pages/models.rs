//! Settings → Model connections: the OpenAI-compatible endpoints LLM steps
//! call by name (an admin's setting; steps never hold a URL or a key).

use crate::api::models::*;
use crate::ui::components::{EmptyState, action_error, resource_list};
use leptos::prelude::*;

fn price(p: Option<f64>) -> String {
    p.map(|p| format!("{p}")).unwrap_or_else(|| "—".into())
}

#[component]
pub fn ModelConnections() -> impl IntoView {
    let save = ServerAction::<SaveModelConnection>::new();
    let delete = ServerAction::<DeleteModelConnection>::new();
    let list = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_model_connections(),
    );
    view! {
        <section class="card" aria-label="Model connections">
            <h2>"Model connections"</h2>
            <p class="muted">
                "LLM steps call a model through a connection, by its name: any OpenAI-compatible chat-completions API (OpenAI, Azure OpenAI, Ollama at "
                <code>"http://127.0.0.1:11434/v1"</code> ", llama.cpp's server, vLLM). The API key is a secret (Settings → Secrets) whose allowed hosts include the API's host. Saving a name that exists replaces that connection."
            </p>
            <ActionForm action=save attr:class="inline-form" attr:aria-label="Save a model connection">
                <label>"Name" <input type="text" name="name" required placeholder="openai" /></label>
                <label>"Base URL" <input type="url" name="base_url" required placeholder="https://api.openai.com/v1" /></label>
                <label>"Model" <input type="text" name="model" required placeholder="gpt-4o-mini" /></label>
                <label>"API key secret (optional)" <input type="text" name="api_key_secret" placeholder="OPENAI_API_KEY" /></label>
                <label>"Price / 1k prompt tokens" <input type="number" name="price_in_per_1k" step="any" min="0" /></label>
                <label>"Price / 1k answer tokens" <input type="number" name="price_out_per_1k" step="any" min="0" /></label>
                <label>"Timeout (seconds)" <input type="number" name="timeout_seconds" min="1" max="600" placeholder="60" /></label>
                <button type="submit" class="primary" disabled=move || save.pending().get()>"Save connection"</button>
            </ActionForm>
            {action_error(save.value())}
            {action_error(delete.value())}
            {resource_list(list, || view! { <EmptyState title="No model connections"><p>"Add one above to use LLM steps."</p></EmptyState> }.into_any(),
                move |list| view! {
                    <table class="table connections">
                        <thead><tr><th>"Name"</th><th>"Endpoint"</th><th>"Model"</th><th>"API key"</th><th>"Prices / 1k (in, out)"</th><th>"Timeout"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|c| {
                                let name = c.name.clone();
                                view! {
                                    <tr data-connection=c.name.clone()>
                                        <td><code>{c.name.clone()}</code></td>
                                        <td>{c.base_url.clone()}</td>
                                        <td>{c.model.clone()}</td>
                                        <td>{c.api_key_secret.clone().unwrap_or_else(|| "none".into())}</td>
                                        <td>{format!("{}, {}", price(c.price_in_per_1k), price(c.price_out_per_1k))}</td>
                                        <td>{format!("{} s", c.timeout_ms / 1000)}</td>
                                        <td><button class="link danger" on:click=move |_| { delete.dispatch(DeleteModelConnection { name: name.clone() }); }>"Delete"</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any())}
        </section>
    }
}
