//! (ssr) JSON Schema checks for run input (the Start node's `input_schema`)
//! and HTTP responses (`response_schema`).

use serde_json::Value;

/// At most this many problems are reported for one value.
const MAX_PROBLEMS: usize = 10;

/// Whether `schema` is itself valid JSON Schema (the reason if not).
pub fn valid(schema: &Value) -> Result<(), String> {
    match check(schema, &Value::Null) {
        Err(p) if p.len() == 1 && p[0].starts_with("the schema itself") => Err(p[0].clone()),
        _ => Ok(()),
    }
}

/// Checks `value` against `schema`. Each problem names where in the value it
/// is (`/amount`) and what is wrong.
///
/// Schemas come from workflows, so `pattern`s run on the `regex` engine
/// (linear time, bounded size) rather than the default backtracking one,
/// which a pattern like `^(a+)+$` could keep busy for hours.
pub fn check(schema: &Value, value: &Value) -> Result<(), Vec<String>> {
    let validator = jsonschema::options()
        .with_pattern_options(
            jsonschema::PatternOptions::regex()
                .size_limit(1 << 20)
                .dfa_size_limit(1 << 20),
        )
        .build(schema)
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
        // regression: a backtracking pattern on a hostile value is linear
        let evil = json!({"type": "string", "pattern": "^(a+)+$"});
        let value = json!(format!("{}!", "a".repeat(5000)));
        let problems = check(&evil, &value).unwrap_err();
        assert!(problems[0].contains("does not match"), "{problems:?}");
        let problems = check(&json!({"type": "nonsense"}), &json!(1)).unwrap_err();
        assert!(
            problems[0].contains("not valid JSON Schema"),
            "{problems:?}"
        );
    }
}
