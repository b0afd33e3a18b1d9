use super::{Attempt, Outcome};
use app::domain::expr;
use app::domain::graph::ErrorClass;

/// Ends the path with a business error whose message is the template.
pub fn run(a: &Attempt<'_>, message: &str) -> Outcome {
    let text = expr::render_template(message, a.context)
        .unwrap_or_else(|e| format!("{message} (message template failed: {e})"));
    Outcome::fail(ErrorClass::Business, text)
}
