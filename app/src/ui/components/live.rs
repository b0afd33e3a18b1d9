//! Pages that follow the server: a counter that moves when the server says
//! something changed (server-sent events from `/events`) or on a timer.

use leptos::prelude::*;

/// A signal that counts up whenever the server says `topic` changed
/// (server-sent events from `/events`), and every `fallback_ms` in case
/// the stream is down (the browser reconnects it by itself).
pub fn live(topic: &'static str, fallback_ms: u64) -> RwSignal<u32> {
    live_on(topic.to_string(), topic, fallback_ms)
}

/// As `live`, for the topic `subscribe` (`run:<id>`) whose events are
/// named `event` (`run`).
pub fn live_on(subscribe: String, event: &'static str, fallback_ms: u64) -> RwSignal<u32> {
    let tick = every(fallback_ms);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use leptos::wasm_bindgen::{JsCast, closure::Closure};
        let url = format!(
            "/events?topics={}",
            percent_encoding::utf8_percent_encode(&subscribe, percent_encoding::NON_ALPHANUMERIC)
        );
        let Ok(source) = leptos::web_sys::EventSource::new(&url) else {
            return;
        };
        let bump =
            Closure::<dyn Fn(leptos::web_sys::Event)>::new(move |_| tick.update(|t| *t += 1));
        let _ = source.add_event_listener_with_callback(event, bump.as_ref().unchecked_ref());
        // what changed before the stream was open is fetched once it is
        let _ = source.add_event_listener_with_callback("open", bump.as_ref().unchecked_ref());
        bump.forget();
        let source = StoredValue::new_local(source);
        on_cleanup(move || {
            source.try_with_value(|s| s.close());
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (subscribe, event);
    tick
}

/// A signal that counts up every `ms` while the page is open.
pub fn every(ms: u64) -> RwSignal<u32> {
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_millis(ms),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}
