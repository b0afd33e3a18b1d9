use super::{Attempt, Outcome};
use app::domain::expr;
use app::domain::graph::ErrorClass;
use serde_json::Value;

/// The output mapping shapes the run's output; without one the run's
/// output is the outputs of all steps.
pub fn run(a: &Attempt<'_>, output: Option<&str>) -> Outcome {
    match output {
        Some(code) => match expr::eval(code, a.context) {
            Ok(v) => Outcome::out(v),
            Err(e) => Outcome::fail(ErrorClass::Format, format!("output mapping: {e}")),
        },
        None => Outcome::out(a.context.get("steps").cloned().unwrap_or(Value::Null)),
    }
}
