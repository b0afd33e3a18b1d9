//! A For each step's items on its run's page: how many succeeded, failed,
//! run and wait, and the list of items (a page at a time), each opening
//! its item run with that item's steps.

use super::runs::{short_json, status_badge};
use crate::api::runs::{ITEMS_PAGE, get_items};
use crate::domain::records::{ItemRun, Iteration};
use leptos::prelude::*;

#[component]
pub fn RunItems(run_id: String, node: String, name: String, it: Iteration) -> impl IntoView {
    let from = RwSignal::new(0i64);
    let (r, n) = (run_id.clone(), node.clone());
    let page = Resource::new(
        move || from.get(),
        move |f| get_items(r.clone(), n.clone(), f),
    );
    let counts = format!(
        "{} items: {} succeeded, {} failed, {} running, {} cancelled, {} not started",
        it.total, it.succeeded, it.failed, it.running, it.cancelled, it.waiting
    );
    let total = it.total as i64;
    let rows = move |items: Vec<ItemRun>| {
        items
            .into_iter()
            .map(|i| {
                let summary = match &i.error {
                    Some(e) => e.clone(),
                    None => short_json(&i.output),
                };
                view! {
                    <tr data-item=i.index>
                        <td><a href=format!("/runs/{}", i.run_id)>{format!("Item {}", i.index)}</a></td>
                        <td>{status_badge(i.status.to_string())}</td>
                        <td class="summary">{summary}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card run-items" data-testid=format!("items-{node}") aria-label=format!("Items of {name}")>
            <h2>{format!("Items of {name}")}</h2>
            <p data-testid="item-counts">{counts}</p>
            <table class="table">
                <thead><tr><th>"Item"</th><th>"Status"</th><th>"Output or error"</th></tr></thead>
                <tbody>
                    <Transition fallback=|| ()>
                        {move || page.get().map(|p| match p {
                            Ok(items) => rows(items).into_any(),
                            Err(e) => view! { <tr><td colspan="3" class="error-text">{e.to_string()}</td></tr> }.into_any(),
                        })}
                    </Transition>
                </tbody>
            </table>
            <div class="pager">
                <button disabled=move || { from.get() == 0 }
                    on:click=move |_| from.update(|f| *f = (*f - ITEMS_PAGE).max(0))>"Earlier items"</button>
                <span class="muted">{move || format!("{}–{} of {total}", (from.get() + 1).min(total), (from.get() + ITEMS_PAGE).min(total))}</span>
                <button disabled=move || { from.get() + ITEMS_PAGE >= total }
                    on:click=move |_| from.update(|f| *f += ITEMS_PAGE)>"Later items"</button>
            </div>
        </section>
    }
}
