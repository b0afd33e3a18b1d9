//! A Code step's console lines, in the step log and a step test.

use leptos::prelude::*;

/// The lines under a "Console" heading; nothing when there are none.
pub fn console_lines(lines: Vec<String>) -> Option<impl IntoView> {
    (!lines.is_empty()).then(|| {
        view! {
            <div class="console" data-testid="console">
                <h4>"Console"</h4>
                <pre>{lines.join("\n")}</pre>
            </div>
        }
    })
}
