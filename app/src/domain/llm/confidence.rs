//! Measuring how sure a model is, from what it returned: never from what
//! it says about itself.
//!
//! - **Label log-probabilities** (classify): the probability of each label
//!   is estimated from the token log-probabilities of the answer, walking
//!   the chosen label's tokens. A label that shares the chosen answer's
//!   first tokens (`bill` for `billing` and `bill_dispute`) is judged where
//!   it parts from it. A label that is nowhere in the top log-probabilities
//!   where it parts is given the most it could have (the smaller of the
//!   least likely listed token and the mass not listed), so a short list
//!   never makes the step surer than it is. The confidence is the chosen
//!   label's share of the labels' total.
//! - **Token log-probabilities** (extract, generate): the geometric mean
//!   of the answer's token probabilities.
//! - **Agreement across samples**: the share of samples that give the
//!   chosen answer (JSON compared canonically); for free text, the chosen
//!   answer's mean word overlap with the other samples.

use crate::domain::lineage::canonical;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One token of an answer with its log-probability and the most likely
/// tokens at its place (as the server lists them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    pub token: String,
    pub logprob: f64,
    #[serde(default)]
    pub top: Vec<(String, f64)>,
}

/// What produced a confidence: the step's output names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    LabelLogprobs,
    TokenLogprobs,
    SampleAgreement,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::LabelLogprobs => "label_logprobs",
            Method::TokenLogprobs => "token_logprobs",
            Method::SampleAgreement => "sample_agreement",
        }
    }
    /// How the run page says it.
    pub fn describe(self) -> &'static str {
        match self {
            Method::LabelLogprobs => "log-probabilities of the label",
            Method::TokenLogprobs => "log-probabilities of the answer's tokens",
            Method::SampleAgreement => "agreement across samples",
        }
    }
}

/// The form labels are compared in: lower case, without surrounding
/// spaces, quotes and punctuation.
pub fn normal(s: &str) -> String {
    s.trim()
        .trim_matches(|c: char| c.is_whitespace() || "\"'`*.,:;!".contains(c))
        .to_lowercase()
}

/// The answer text so far, as compared with labels (leading spaces and
/// quotes dropped, lower case).
fn spoken(text: &str) -> String {
    text.trim_start_matches(|c: char| c.is_whitespace() || "\"'`*".contains(c))
        .to_lowercase()
}

/// Whether `candidate` (the answer so far with another token) still leads
/// to `label`: it is a beginning of the label, or the label followed by
/// something that ends it.
fn leads_to(candidate: &str, label: &str) -> bool {
    if candidate.is_empty() {
        return false;
    }
    label.starts_with(candidate)
        || candidate
            .strip_prefix(label)
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// Each label's estimated probability, normalised over the labels, for an
/// answer whose tokens are `tokens` and which chose `labels[chosen]`.
/// None when the tokens do not spell the chosen label.
pub fn label_scores(labels: &[String], chosen: usize, tokens: &[TokenLogprob]) -> Option<Vec<f64>> {
    let names: Vec<String> = labels.iter().map(|l| l.to_lowercase()).collect();
    let target = names.get(chosen)?.clone();
    let mut mass = vec![0.0_f64; names.len()];
    let mut judged = vec![false; names.len()];
    judged[chosen] = true;
    let mut text = String::new();
    // the probability of the chosen answer up to here
    let mut p_path = 1.0_f64;
    let mut covered = false;
    for tok in tokens {
        let so_far = spoken(&text);
        let next = spoken(&format!("{text}{}", tok.token));
        if next.is_empty() {
            // a leading space or quote: every label shares it
            text.push_str(&tok.token);
            continue;
        }
        // the labels that part from the chosen answer at this token
        let parting: Vec<usize> = (0..names.len())
            .filter(|i| !judged[*i] && names[*i].starts_with(&so_far))
            .filter(|i| covered || !leads_to(&next, &names[*i]))
            .collect();
        let alternatives: Vec<(String, f64)> = tok
            .top
            .iter()
            .filter(|(t, _)| *t != tok.token)
            .map(|(t, lp)| (spoken(&format!("{text}{t}")), lp.exp()))
            .collect();
        let listed: f64 = tok.top.iter().map(|(_, lp)| lp.exp()).sum();
        let least = tok
            .top
            .iter()
            .map(|(_, lp)| lp.exp())
            .fold(1.0_f64, f64::min);
        // the most a token missing from the list can have
        let unlisted = least.min((1.0 - listed).max(0.0));
        let mut share = vec![0.0_f64; names.len()];
        for (candidate, p) in &alternatives {
            let led: Vec<usize> = parting
                .iter()
                .copied()
                .filter(|i| leads_to(candidate, &names[*i]))
                .collect();
            for i in &led {
                share[*i] += p / led.len() as f64;
            }
        }
        let mut parted = 0.0;
        for i in parting {
            let here = if share[i] > 0.0 { share[i] } else { unlisted };
            mass[i] = p_path * here;
            parted += here;
            judged[i] = true;
        }
        if covered {
            // the chosen label ended here, unless a longer one went on
            mass[chosen] = p_path * (1.0 - parted).max(0.0);
            break;
        }
        if !leads_to(&next, &target) {
            return None;
        }
        p_path *= tok.logprob.exp();
        text.push_str(&tok.token);
        if next.len() >= target.len() {
            covered = true;
            mass[chosen] = p_path;
            if judged.iter().all(|j| *j) {
                break;
            }
        }
    }
    if !covered {
        return None;
    }
    let total: f64 = mass.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    Some(mass.iter().map(|m| m / total).collect())
}

/// The geometric mean of the tokens' probabilities (None without tokens).
pub fn token_confidence(tokens: &[TokenLogprob]) -> Option<f64> {
    if tokens.is_empty() {
        return None;
    }
    let mean = tokens.iter().map(|t| t.logprob).sum::<f64>() / tokens.len() as f64;
    mean.is_finite().then(|| mean.exp().clamp(0.0, 1.0))
}

/// The answer most samples gave (the earliest on a tie) and the share of
/// samples that gave it, compared canonically. `free_text`: the samples
/// are prose, and the chosen one is the one whose words overlap most with
/// the others' (its mean overlap is the share).
pub fn agreement(samples: &[Value], free_text: bool) -> Option<(usize, f64)> {
    if samples.is_empty() {
        return None;
    }
    if free_text && samples.len() > 1 {
        let words: Vec<std::collections::BTreeSet<String>> = samples
            .iter()
            .map(|s| {
                s.as_str()
                    .unwrap_or("")
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_lowercase)
                    .collect()
            })
            .collect();
        let overlap = |a: usize, b: usize| {
            let (x, y) = (&words[a], &words[b]);
            let union = x.union(y).count();
            if union == 0 {
                1.0
            } else {
                x.intersection(y).count() as f64 / union as f64
            }
        };
        let mut best = (0, -1.0);
        for i in 0..samples.len() {
            let others: f64 = (0..samples.len())
                .filter(|j| *j != i)
                .map(|j| overlap(i, j))
                .sum::<f64>()
                / (samples.len() - 1) as f64;
            if others > best.1 {
                best = (i, others);
            }
        }
        return Some(best);
    }
    let keys: Vec<String> = samples.iter().map(canonical).collect();
    let mut best = (0, 0usize);
    for (i, k) in keys.iter().enumerate() {
        let votes = keys.iter().filter(|o| *o == k).count();
        if votes > best.1 {
            best = (i, votes);
        }
    }
    Some((best.0, best.1 as f64 / samples.len() as f64))
}

#[cfg(test)]
#[path = "confidence_tests.rs"]
mod tests;
