use super::{Attempt, Outcome};
use app::domain::expr;
use app::domain::graph::{BranchCondition, ErrorClass, PORT_DEFAULT};
use serde_json::json;

/// Takes the first condition that holds, else `default`.
pub fn run(a: &Attempt<'_>, conditions: &[BranchCondition]) -> Outcome {
    for c in conditions {
        match expr::eval(&c.expression, a.context) {
            Ok(v) if expr::truthy(&v) => {
                return Outcome::Done {
                    output: json!({"taken": c.label}),
                    confidence: None,
                    port: c.label.clone(),
                };
            }
            Ok(_) => {}
            Err(e) => {
                return Outcome::fail(ErrorClass::Format, format!("condition '{}': {e}", c.label));
            }
        }
    }
    Outcome::Done {
        output: json!({"taken": PORT_DEFAULT}),
        confidence: None,
        port: PORT_DEFAULT.into(),
    }
}
