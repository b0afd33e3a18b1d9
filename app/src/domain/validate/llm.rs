//! Checks of an LLM step's settings: a connection named, prompts that
//! parse, labels that can be ports, a schema for extract, and sampling
//! numbers in range.

use super::{ProblemKind, Problems};
use crate::domain::expr;
use crate::domain::graph::*;
use std::collections::BTreeSet;

/// Ports no label may take.
const RESERVED: [&str; 6] = [
    PORT_OUT,
    PORT_ERROR,
    PORT_DEFAULT,
    PORT_REJECTED,
    PORT_EXHAUSTED,
    PORT_UNCERTAIN,
];

pub(super) fn check_llm(p: &mut Problems, n: &Node, cfg: &LlmConfig) {
    let mut bad = |kind, message: String| p.node(kind, n, message);
    if cfg.connection.trim().is_empty() {
        bad(
            ProblemKind::MissingConfig,
            "choose the model connection (Settings → Model connections)".into(),
        );
    }
    if cfg.prompt.trim().is_empty() {
        bad(
            ProblemKind::MissingConfig,
            "write the prompt (a template over the run context, e.g. {{ input.text }})".into(),
        );
    }
    for (what, src) in [("system prompt", &cfg.system), ("prompt", &cfg.prompt)] {
        if let Err(e) = expr::check_template(src) {
            bad(ProblemKind::InvalidTemplate, format!("{what}: {e}"));
        }
    }
    match cfg.mode {
        LlmMode::Classify => {
            if cfg.labels.len() < 2 {
                bad(
                    ProblemKind::MissingConfig,
                    "give at least two labels to choose from".into(),
                );
            }
            if cfg.labels.len() > MAX_LABELS {
                bad(
                    ProblemKind::InvalidSetting,
                    format!("at most {MAX_LABELS} labels"),
                );
            }
            let mut seen = BTreeSet::new();
            for l in &cfg.labels {
                let name = l.name.trim();
                if name.is_empty() {
                    bad(ProblemKind::MissingConfig, "a label has no name".into());
                } else if name != l.name
                    || name.chars().count() > MAX_LABEL_CHARS
                    || name.contains(|c: char| c.is_control())
                {
                    bad(
                        ProblemKind::InvalidSetting,
                        format!(
                            "label '{}' must be one line of at most {MAX_LABEL_CHARS} characters, without spaces around it",
                            l.name
                        ),
                    );
                } else if RESERVED.contains(&name) {
                    bad(
                        ProblemKind::InvalidSetting,
                        format!("'{name}' is reserved for a port; choose another label"),
                    );
                } else if !seen.insert(crate::domain::llm::confidence::normal(name)) {
                    bad(
                        ProblemKind::InvalidSetting,
                        format!("two labels read as '{name}'; labels must differ"),
                    );
                }
            }
        }
        LlmMode::Extract => match &cfg.schema {
            None => bad(
                ProblemKind::MissingConfig,
                "give the JSON Schema of the fields to extract".into(),
            ),
            Some(s) if s.get("type").and_then(|t| t.as_str()) != Some("object") => bad(
                ProblemKind::InvalidSetting,
                "the schema describes an object (\"type\": \"object\" with its properties)".into(),
            ),
            Some(_) => {}
        },
        LlmMode::Generate => {}
    }
    if let Some(t) = cfg.temperature
        && !(t.is_finite() && (0.0..=2.0).contains(&t))
    {
        bad(
            ProblemKind::InvalidSetting,
            format!("temperature {t} must be between 0 and 2"),
        );
    }
    if let Some(m) = cfg.max_tokens
        && !(1..=MAX_TOKENS).contains(&m)
    {
        bad(
            ProblemKind::InvalidSetting,
            format!("max tokens must be 1 to {MAX_TOKENS}, not {m}"),
        );
    }
    if let Some(s) = cfg.samples
        && !(2..=MAX_SAMPLES).contains(&s)
    {
        bad(
            ProblemKind::InvalidSetting,
            format!("samples must be 2 to {MAX_SAMPLES}, not {s}"),
        );
    }
    if cfg.confidence == ConfidenceMethod::Agreement && cfg.temperature == Some(0.0) {
        bad(
            ProblemKind::InvalidSetting,
            "samples at temperature 0 always agree, so agreement would measure nothing; raise the temperature or measure by log-probabilities".into(),
        );
    }
}
