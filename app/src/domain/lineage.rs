//! Where a step's output came from: a SHA-256 of the input it was computed
//! from (canonical JSON: keys sorted, so equal inputs hash equal), the
//! steps whose outputs that input held, and for LLM steps the model and a
//! hash of the prompt templates. Kept with every attempt that produced an
//! output, and carried into approval items and the labelled examples.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Lineage {
    /// SHA-256 (hex) of the step's input in canonical JSON.
    pub input_sha256: String,
    /// The steps whose outputs the input held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
    /// LLM steps: the model connection and the model asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// LLM steps: SHA-256 of the prompt templates and what shapes them
    /// (mode, labels, schema), before rendering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_sha256: Option<String>,
}

/// The text of a JSON value with its object keys sorted at every depth, so
/// equal values give equal text whatever order their keys came in.
pub fn canonical(v: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(v, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("JSON text is UTF-8")
}

/// Writes `v` in canonical form (keys sorted) to `w`, without building the
/// text first (a step's input is hashed this way).
pub fn write_canonical(v: &Value, w: &mut impl std::io::Write) -> std::io::Result<()> {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            w.write_all(b"{")?;
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                serde_json::to_writer(&mut *w, k)?;
                w.write_all(b":")?;
                write_canonical(&m[k], w)?;
            }
            w.write_all(b"}")
        }
        Value::Array(a) => {
            w.write_all(b"[")?;
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_canonical(x, w)?;
            }
            w.write_all(b"]")
        }
        other => serde_json::to_writer(&mut *w, other).map_err(std::io::Error::from),
    }
}

/// The steps whose outputs a run context holds.
pub fn reads(input: &Value) -> Vec<String> {
    input
        .get("steps")
        .and_then(Value::as_object)
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default()
}

/// The parts of an LLM step's settings its prompt hash covers.
pub fn prompt_material(cfg: &crate::domain::graph::LlmConfig) -> Value {
    serde_json::json!({
        "mode": cfg.mode,
        "system": cfg.system,
        "prompt": cfg.prompt,
        "labels": cfg.labels,
        "schema": cfg.schema,
        "json": cfg.json,
    })
}

#[cfg(feature = "ssr")]
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(feature = "ssr")]
impl Lineage {
    /// The lineage of an output computed from `input`.
    pub fn of(input: &Value) -> Lineage {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        write_canonical(input, &mut h).expect("hashing does not fail");
        Lineage {
            input_sha256: hex::encode(h.finalize()),
            reads: reads(input),
            ..Lineage::default()
        }
    }

    /// The lineage of an output computed from `input`, by the model of
    /// `call` when a model answered.
    pub fn of_answer(input: &Value, call: Option<&crate::domain::llm::ModelCall>) -> Lineage {
        let mut l = Lineage::of(input);
        if let Some(call) = call {
            l.connection = Some(call.connection.clone());
            l.model = Some(call.model.clone());
            l.prompt_sha256 = Some(call.prompt_sha256.clone());
        }
        l
    }

    /// The hash of an LLM step's prompt templates.
    pub fn prompt_hash(cfg: &crate::domain::graph::LlmConfig) -> String {
        sha256_hex(&canonical(&prompt_material(cfg)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        assert_eq!(
            canonical(&json!({"b": [{"y": 1, "x": 2}], "a": "é"})),
            r#"{"a":"é","b":[{"x":2,"y":1}]}"#
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn equal_inputs_hash_equal_whatever_their_key_order_and_reads_are_the_steps_held() {
        let a = Lineage::of(&json!({"input": {"x": 1, "y": 2}, "steps": {"b": {}, "a": {}}}));
        let b = Lineage::of(&json!({"steps": {"a": {}, "b": {}}, "input": {"y": 2, "x": 1}}));
        assert_eq!(a, b);
        assert_eq!(a.reads, ["a", "b"]);
        assert_eq!(a.input_sha256.len(), 64);
        assert_ne!(a, Lineage::of(&json!({"input": {"x": 1, "y": 3}})));
        let v = json!({"b": [1, "x"], "a": null});
        assert_eq!(a.input_sha256.len(), sha256_hex(&canonical(&v)).len());
        assert_eq!(
            Lineage::of(&v).input_sha256,
            sha256_hex(&canonical(&v)),
            "streamed and built hash alike"
        );
    }
}
