//! Export and import of workflow files, and the warning before leaving
//! with unsaved changes.

use crate::domain::WorkflowDef;

/// The definition as a `data:` URL for the Export link.
pub fn export_href(def: &WorkflowDef) -> String {
    let json = serde_json::to_string_pretty(def).unwrap_or_default();
    let encoded = percent_encoding::utf8_percent_encode(&json, percent_encoding::NON_ALPHANUMERIC);
    format!("data:application/json;charset=utf-8,{encoded}")
}

/// Reads an imported file: a workflow definition as exported, or an API
/// answer that holds one under `definition`. The message says what to fix.
pub fn parse_import(text: &str) -> Result<WorkflowDef, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the file is not JSON ({e})"))?;
    let def = match value.get("definition") {
        Some(inner) if value.get("nodes").is_none() => inner.clone(),
        _ => value,
    };
    let def: WorkflowDef = serde_json::from_value(def)
        .map_err(|e| format!("the file is not a Stepwise workflow: {e}"))?;
    if def.nodes.is_empty() {
        return Err("the file has no steps (\"nodes\" is empty)".into());
    }
    Ok(def)
}

#[cfg(feature = "hydrate")]
mod guard {
    use leptos::wasm_bindgen::{JsCast, closure::Closure};
    use std::cell::Cell;

    thread_local! {
        static DIRTY: Cell<bool> = const { Cell::new(false) };
        static INSTALLED: Cell<bool> = const { Cell::new(false) };
    }

    pub const QUESTION: &str = "This workflow has unsaved changes. Leave without saving them?";

    pub fn set(dirty: bool) {
        DIRTY.set(dirty);
        if INSTALLED.replace(true) {
            return;
        }
        let window = leptos::prelude::window();
        // leaving the site or reloading: the browser asks
        let before = Closure::<dyn Fn(leptos::web_sys::BeforeUnloadEvent)>::new(
            |ev: leptos::web_sys::BeforeUnloadEvent| {
                if DIRTY.get() {
                    ev.prevent_default();
                    ev.set_return_value(QUESTION);
                }
            },
        );
        let _ = window
            .add_event_listener_with_callback("beforeunload", before.as_ref().unchecked_ref());
        before.forget();
        // a link inside the app: ask before the router sees the click
        let click = Closure::<dyn Fn(leptos::web_sys::MouseEvent)>::new(
            |ev: leptos::web_sys::MouseEvent| {
                if !DIRTY.get() {
                    return;
                }
                let link = ev
                    .target()
                    .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                    .and_then(|el| el.closest("a[href]").ok().flatten());
                let Some(link) = link else { return };
                if link.has_attribute("download") {
                    return;
                }
                let leave = leptos::prelude::window()
                    .confirm_with_message(QUESTION)
                    .unwrap_or(true);
                if leave {
                    DIRTY.set(false);
                } else {
                    ev.prevent_default();
                    ev.stop_immediate_propagation();
                }
            },
        );
        let _ = window.add_event_listener_with_callback_and_bool(
            "click",
            click.as_ref().unchecked_ref(),
            true,
        );
        click.forget();
    }
}

/// Keeps the leave-page warning in step with `dirty`.
pub fn warn_when_leaving(dirty: leptos::prelude::Memo<bool>) {
    use leptos::prelude::*;
    Effect::new(move |_| {
        let _d = dirty.get();
        #[cfg(feature = "hydrate")]
        guard::set(_d);
    });
    on_cleanup(|| {
        #[cfg(feature = "hydrate")]
        guard::set(false);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_a_definition_or_an_api_answer_and_explains_the_rest() {
        let def = crate::domain::example::invoice_approval();
        let text = serde_json::to_string(&def).unwrap();
        assert_eq!(parse_import(&text).unwrap(), def);
        let wrapped = serde_json::json!({"version": 3, "definition": def}).to_string();
        assert_eq!(parse_import(&wrapped).unwrap(), def);

        let e = parse_import("{ nope").unwrap_err();
        assert!(e.starts_with("the file is not JSON"), "{e}");
        let e = parse_import(r#"{"nodes": [{"id": "a"}], "edges": []}"#).unwrap_err();
        assert!(e.contains("not a Stepwise workflow"), "{e}");
        let e = parse_import(r#"{"nodes": [], "edges": []}"#).unwrap_err();
        assert!(e.contains("no steps"), "{e}");
        assert!(export_href(&def).starts_with("data:application/json"));
    }
}
