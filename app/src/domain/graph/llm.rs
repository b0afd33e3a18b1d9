//! An LLM step's settings: which model connection, what it does (classify,
//! extract, generate), its prompts, and how its confidence is measured.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// The name of a model connection (Settings → Model connections).
    pub connection: String,
    pub mode: LlmMode,
    /// The system prompt: a template over the run context.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub system: String,
    /// The user prompt: a template over the run context.
    pub prompt: String,
    /// classify: the labels to choose from, each with what it means; each
    /// label is an output port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LlmLabel>,
    /// extract: the JSON Schema the answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// generate: the answer is a JSON value rather than text.
    #[serde(default, skip_serializing_if = "is_false")]
    pub json: bool,
    /// Sampling temperature (0 to 2); none: the server's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Most tokens in an answer (1 to `MAX_TOKENS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// How the confidence is measured.
    #[serde(default, skip_serializing_if = "ConfidenceMethod::is_auto")]
    pub confidence: ConfidenceMethod,
    /// Samples drawn when the confidence is agreement across samples
    /// (2 to `MAX_SAMPLES`; default `DEFAULT_SAMPLES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LlmMode {
    /// Choose one of the labels; leaves by the label's port.
    Classify,
    /// Fill a JSON object that must match the schema.
    Extract,
    /// Write text (or JSON) from the prompt.
    Generate,
}

impl LlmMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LlmMode::Classify => "classify",
            LlmMode::Extract => "extract",
            LlmMode::Generate => "generate",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LlmLabel {
    /// The label the model answers with, and the port's name.
    pub name: String,
    /// What the label means, told to the model.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// How an LLM step measures its confidence. Never self-reported: the
/// model's own words about how sure it is are not a measurement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceMethod {
    /// Log-probabilities when the server gives them, else agreement.
    #[default]
    Auto,
    /// Log-probabilities only (the step fails if the server gives none).
    Logprobs,
    /// Agreement across samples.
    Agreement,
    /// No confidence (counts as 1).
    None,
}

impl ConfidenceMethod {
    pub fn is_auto(&self) -> bool {
        *self == ConfidenceMethod::Auto
    }
}

/// The port a classify step takes when its confidence is below the step's
/// threshold, if that port is connected.
pub const PORT_UNCERTAIN: &str = "uncertain";
pub const DEFAULT_SAMPLES: u32 = 3;
pub const MAX_SAMPLES: u32 = 10;
pub const MAX_LABELS: usize = 50;
pub const MAX_TOKENS: u32 = 32_768;
/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 64;

impl LlmConfig {
    /// A step of `mode` on connection `connection` with prompt `prompt`.
    pub fn new(connection: &str, mode: LlmMode, prompt: &str) -> Self {
        LlmConfig {
            connection: connection.into(),
            mode,
            system: String::new(),
            prompt: prompt.into(),
            labels: vec![],
            schema: None,
            json: false,
            temperature: None,
            max_tokens: None,
            confidence: ConfidenceMethod::Auto,
            samples: None,
        }
    }

    /// Its output ports besides `error`.
    pub fn ports(&self) -> Vec<String> {
        match self.mode {
            LlmMode::Classify => self
                .labels
                .iter()
                .map(|l| l.name.clone())
                .chain(std::iter::once(PORT_UNCERTAIN.to_string()))
                .collect(),
            _ => vec![super::PORT_OUT.into()],
        }
    }

    pub fn samples(&self) -> u32 {
        self.samples.unwrap_or(DEFAULT_SAMPLES)
    }

    /// The port an output leaves by: a classify step's label (as a person
    /// may have edited it), when it is one of the labels.
    pub fn port_of(&self, output: &Value) -> Option<String> {
        if self.mode != LlmMode::Classify {
            return None;
        }
        let label = output.get("label")?.as_str()?;
        self.labels
            .iter()
            .find(|l| l.name == label)
            .map(|l| l.name.clone())
    }
}
