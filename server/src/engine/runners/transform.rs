use super::{Attempt, Outcome};
use app::domain::expr;
use app::domain::graph::ErrorClass;

/// Evaluates the jq expression over the run context. A result object with a
/// numeric `confidence` in [0, 1] reports it.
pub fn run(a: &Attempt<'_>, expression: &str) -> Outcome {
    match expr::eval(expression, a.context) {
        Ok(output) => {
            let confidence = output
                .get("confidence")
                .and_then(|c| c.as_f64())
                .filter(|c| (0.0..=1.0).contains(c));
            Outcome::Done {
                output,
                confidence,
                port: app::domain::PORT_OUT.into(),
            }
        }
        Err(e) => Outcome::fail(ErrorClass::Format, e),
    }
}
