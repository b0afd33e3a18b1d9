//! A model connection: an OpenAI-compatible endpoint an admin sets up once
//! and steps name. Steps never hold the URL or the key, so a workflow's
//! author cannot point a model step anywhere else.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ModelConnection {
    /// What steps call it by: letters, digits, `_` and `-`.
    pub name: String,
    /// The API's base URL, up to and including `/v1`
    /// (`https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`).
    pub base_url: String,
    /// The model asked (`gpt-4o-mini`, `llama3.1:8b`).
    pub model: String,
    /// The secret holding the API key, sent as `Authorization: Bearer`;
    /// none for a server that asks for no key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret: Option<String>,
    /// Price per 1,000 prompt tokens, for the cost estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_in_per_1k: Option<f64>,
    /// Price per 1,000 answer tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_out_per_1k: Option<f64>,
    /// How long one request may take, in milliseconds.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;
pub const MAX_TIMEOUT_MS: u64 = 600_000;
pub const MAX_PRICE: f64 = 1_000.0;

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}

fn good_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl ModelConnection {
    /// Everything wrong with it, each saying what to fix.
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        if !good_name(&self.name) {
            out.push("the name has 1 to 64 letters, digits, '_' or '-'".to_string());
        }
        let url = self.base_url.trim().to_ascii_lowercase();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            out.push(
                "the base URL starts with http:// or https:// (for example https://api.openai.com/v1)"
                    .into(),
            );
        } else if url.contains('?') || url.contains('#') || url.contains('@') {
            out.push(
                "the base URL has no query, fragment or credentials; put the key in a secret"
                    .into(),
            );
        }
        if self.base_url.len() > 2048 {
            out.push("the base URL has at most 2,048 characters".into());
        }
        if self.model.trim().is_empty() || self.model.len() > 256 {
            out.push("name the model (1 to 256 characters), e.g. gpt-4o-mini".into());
        }
        if let Some(s) = &self.api_key_secret
            && !good_name(s)
        {
            out.push("the API key secret is the name of a secret (Settings → Secrets)".into());
        }
        for (what, p) in [
            ("prompt", self.price_in_per_1k),
            ("answer", self.price_out_per_1k),
        ] {
            if let Some(p) = p
                && !(p.is_finite() && (0.0..=MAX_PRICE).contains(&p))
            {
                out.push(format!(
                    "the price per 1,000 {what} tokens is between 0 and {MAX_PRICE}"
                ));
            }
        }
        if !(1_000..=MAX_TIMEOUT_MS).contains(&self.timeout_ms) {
            out.push(format!(
                "the timeout is between 1,000 and {MAX_TIMEOUT_MS} ms"
            ));
        }
        out
    }

    /// Where chat completions are asked.
    pub fn endpoint(&self) -> String {
        format!(
            "{}/chat/completions",
            self.base_url.trim().trim_end_matches('/')
        )
    }

    /// The estimated cost of `tokens_in` prompt and `tokens_out` answer
    /// tokens; none without prices.
    pub fn cost(&self, tokens_in: u64, tokens_out: u64) -> Option<f64> {
        if self.price_in_per_1k.is_none() && self.price_out_per_1k.is_none() {
            return None;
        }
        Some(
            tokens_in as f64 / 1000.0 * self.price_in_per_1k.unwrap_or(0.0)
                + tokens_out as f64 / 1000.0 * self.price_out_per_1k.unwrap_or(0.0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> ModelConnection {
        ModelConnection {
            name: "local".into(),
            base_url: "http://127.0.0.1:11434/v1/".into(),
            model: "llama3.1:8b".into(),
            api_key_secret: None,
            price_in_per_1k: Some(0.5),
            price_out_per_1k: Some(1.5),
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }

    #[test]
    fn a_good_connection_has_no_problems_and_prices_its_tokens() {
        let c = local();
        assert!(c.problems().is_empty());
        assert_eq!(c.endpoint(), "http://127.0.0.1:11434/v1/chat/completions");
        assert_eq!(c.cost(2000, 1000), Some(2.5));
        let free = ModelConnection {
            price_in_per_1k: None,
            price_out_per_1k: None,
            ..local()
        };
        assert_eq!(free.cost(2000, 1000), None);
    }

    #[test]
    fn every_bad_field_says_what_to_fix() {
        let bad = ModelConnection {
            name: "no spaces".into(),
            base_url: "ftp://x".into(),
            model: " ".into(),
            api_key_secret: Some("a b".into()),
            price_in_per_1k: Some(f64::NAN),
            price_out_per_1k: Some(-1.0),
            timeout_ms: 5,
        };
        let p = bad.problems();
        assert_eq!(p.len(), 7, "{p:?}");
        let creds = ModelConnection {
            base_url: "https://user:key@api.example.com/v1".into(),
            ..local()
        };
        assert!(creds.problems()[0].contains("no query, fragment or credentials"));
    }
}
