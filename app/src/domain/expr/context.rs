//! A run context as jq reads it, converted a part at a time.
//!
//! A chain evaluates one step after another over a context that grows by
//! one step's output each time ([`set_output`](crate::domain::machine::set_output)).
//! Converting the whole context to jaq's value for each step made a chain's
//! work grow with the square of its length. [`JqContext`] converts each
//! top-level part and each step's entry once, and builds the value for an
//! evaluation from those (jaq shares them: cloning one is a count, not a
//! copy). It is exactly the value converting the whole context gives: the
//! same keys in the same order, each part converted the same way.

use jaq_json::{Map, Val};
use serde_json::Value;
use std::collections::HashMap;

/// The parts of one context converted so far. Whoever changes the
/// context says which step changed ([`JqContext::changed_step`]); a
/// context changed otherwise needs a new `JqContext`.
#[derive(Default)]
pub struct JqContext {
    /// Top-level parts but `steps` (as an object), by key.
    parts: HashMap<String, Val>,
    /// The entries of `steps`, by step id.
    steps: HashMap<String, Val>,
}

impl JqContext {
    /// `ctx` as jq reads it.
    pub fn val(&mut self, ctx: &Value) -> Result<Val, String> {
        let Value::Object(top) = ctx else {
            return convert(ctx);
        };
        let mut out = Map::with_capacity_and_hasher(top.len(), Default::default());
        for (key, part) in top {
            let val = match part {
                Value::Object(steps) if key == "steps" => {
                    let mut s = Map::with_capacity_and_hasher(steps.len(), Default::default());
                    for (id, entry) in steps {
                        s.insert(key_val(id), once(&mut self.steps, id, entry)?);
                    }
                    Val::obj(s)
                }
                _ => once(&mut self.parts, key, part)?,
            };
            out.insert(key_val(key), val);
        }
        Ok(Val::obj(out))
    }

    /// The context's entry for step `id` changed (or `steps` was made).
    pub fn changed_step(&mut self, id: &str) {
        self.steps.remove(id);
        self.parts.remove("steps");
    }
}

/// `part`, converted the first time its `key` is asked for.
fn once(kept: &mut HashMap<String, Val>, key: &str, part: &Value) -> Result<Val, String> {
    if let Some(v) = kept.get(key) {
        return Ok(v.clone());
    }
    let v = convert(part)?;
    kept.insert(key.to_string(), v.clone());
    Ok(v)
}

/// A JSON value as jaq reads it.
pub(super) fn convert(v: &Value) -> Result<Val, String> {
    <Val as serde::Deserialize>::deserialize(v).map_err(|e| e.to_string())
}

/// An object key as jaq's deserializer makes it.
fn key_val(k: &str) -> Val {
    Val::utf8_str(k.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::machine::set_output;
    use serde_json::json;

    /// Built from parts, changed step by step, the value is always the one
    /// converting the whole context gives (jq's `tojson` writes keys in
    /// the value's order, so order is compared too).
    #[test]
    fn a_context_built_from_parts_is_the_value_converting_all_of_it_gives() {
        let mut ctx = json!({
            "input": {"amount": 5, "b": [1, {"c": null}], "a": "x"},
            "item": 3,
            "steps": {"t1": {"output": {"v": 1}, "confidence": null}}
        });
        let mut jq = JqContext::default();
        let written = |v: Val| v.to_string();
        for (i, id) in ["t2", "t1", "a0", "t3"].iter().enumerate() {
            assert_eq!(
                written(jq.val(&ctx).unwrap()),
                written(convert(&ctx).unwrap())
            );
            set_output(&mut ctx, id, &json!({"n": i, "s": "é\"\n"}), Some(0.5));
            jq.changed_step(id);
        }
        assert_eq!(
            written(jq.val(&ctx).unwrap()),
            written(convert(&ctx).unwrap())
        );
        assert_eq!(
            super::super::eval_in("[.steps | keys, .steps.t1.output.n, .input]", &ctx, &mut jq),
            super::super::eval("[.steps | keys, .steps.t1.output.n, .input]", &ctx)
        );
    }

    /// A context with no `steps` yet, or one that is not an object at all,
    /// reads the same as converted whole, also once a step's output made
    /// its `steps`.
    #[test]
    fn a_context_without_steps_or_not_an_object_reads_as_converted_whole() {
        let mut jq = JqContext::default();
        for ctx in [json!(null), json!([1, 2]), json!("s")] {
            assert_eq!(
                jq.val(&ctx).unwrap().to_string(),
                convert(&ctx).unwrap().to_string()
            );
        }
        let mut ctx = json!({"input": 1, "steps": null});
        let mut jq = JqContext::default();
        assert_eq!(
            jq.val(&ctx).unwrap().to_string(),
            convert(&ctx).unwrap().to_string()
        );
        set_output(&mut ctx, "t1", &json!(2), None);
        jq.changed_step("t1");
        assert_eq!(
            jq.val(&ctx).unwrap().to_string(),
            convert(&ctx).unwrap().to_string()
        );
    }
}
