//! (ssr) JSON Schema checks for run input (the Start node's `input_schema`)
//! and HTTP responses (`response_schema`).

use serde_json::Value;

/// At most this many problems are reported for one value.
const MAX_PROBLEMS: usize = 10;

/// Checks `value` against `schema`. Each problem names where in the value it
/// is (`/amount`) and what is wrong.
pub fn check(schema: &Value, value: &Value) -> Result<(), Vec<String>> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| vec![format!("the schema itself is not valid JSON Schema: {e}")])?;
    let problems: Vec<String> = validator
        .iter_errors(value)
        .take(MAX_PROBLEMS)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() {
                "the value".to_string()
            } else {
                at
            };
            format!("{at}: {e}")
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_where_and_what() {
        let schema = json!({"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}});
        assert_eq!(check(&schema, &json!({"amount": 3})), Ok(()));
        let problems = check(&schema, &json!({"amount": "3"})).unwrap_err();
        assert!(problems[0].starts_with("/amount: "), "{problems:?}");
        let problems = check(&schema, &json!({})).unwrap_err();
        assert!(problems[0].contains("amount"), "{problems:?}");
        let problems = check(&json!({"type": "nonsense"}), &json!(1)).unwrap_err();
        assert!(
            problems[0].contains("not valid JSON Schema"),
            "{problems:?}"
        );
    }
}
