//! A chain: several pure steps evaluated in one round trip, each over the
//! run context as the steps before it left it. A run's pure stretch (a
//! line of Transforms, the branches of a fan-out) then costs the server
//! one request instead of one per step. The child decides nothing about the
//! run: it evaluates each step's jobs and, when the step succeeded, puts
//! its output in the context for the next, exactly as the engine's walk
//! does ([`crate::engine::runners::pure`] says what a step's results mean,
//! on both sides). It stops at the first step that did not succeed.

use super::{JobResult, evaluate_in, js::JsLimits};
use crate::engine::runners::{Outcome, pure};
use app::domain::expr::JqContext;
use app::domain::graph::NodeKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// One step of a chain.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Link {
    pub step: String,
    pub kind: NodeKind,
}

/// Evaluates `chain` over `ctx` in turn (in the child); each step's jobs'
/// results, each capped by `cap`, up to the first step that did not
/// succeed.
pub fn evaluate_chain(
    chain: &[Link],
    mut ctx: Value,
    js: JsLimits,
    cap: impl Fn(JobResult) -> JobResult,
) -> Vec<Vec<JobResult>> {
    let mut out = Vec::with_capacity(chain.len());
    // each part of the context is converted for jq once, not once a step
    let mut jq = JqContext::default();
    for link in chain {
        let results: Vec<JobResult> = {
            let ctxs = [Cow::Borrowed(&ctx)];
            pure::jobs(&link.kind)
                .iter()
                .map(|job| cap(evaluate_in(job, &ctxs, js, &mut jq)))
                .collect()
        };
        let outcome = pure::outcome(&link.kind, &ctx, results.clone());
        out.push(results);
        match outcome {
            Outcome::Done {
                output, confidence, ..
            } => {
                app::domain::machine::set_output(&mut ctx, &link.step, &output, confidence);
                jq.changed_step(&link.step);
            }
            _ => break,
        }
    }
    out
}
