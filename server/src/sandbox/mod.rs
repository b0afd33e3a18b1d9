//! Everything a workflow computes (jq expressions, templates) runs here: in
//! a small pool of child processes (`stepwise sandbox`), not in the server.
//! jq and the template engine cannot be interrupted once they run, so the
//! bounds are the operating system's: the parent stops a child that takes
//! longer than the time limit, the child's address space is capped
//! (`RLIMIT_AS`), it starts with an empty environment, may not create files,
//! and whatever kills it (a stack overflow, an allocation past the cap) ends
//! only that child. The server starts a fresh one for the next evaluation.
//!
//! Evaluations travel as one JSON line each way; several jobs over the same
//! contexts go in one line (a Branch's conditions, an Http step's URL,
//! headers and body), so a step costs one round trip.

mod chain;
pub mod child;
pub mod js;
mod pool;

pub use chain::Link;

pub use pool::{Sandbox, SandboxConfig, SandboxError};

use app::domain::expr::JqContext;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// One evaluation over `ctxs[ctx]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    /// A jq program; its first output.
    Jq { code: String, ctx: usize },
    /// A template rendered to a string.
    Template { src: String, ctx: usize },
    /// An HTML template: values from the context are HTML-escaped.
    Html { src: String, ctx: usize },
    /// A Code step's JavaScript: `main(ctx)`'s value and console lines
    /// (see [`js::run`]).
    Js { code: String, ctx: usize },
    /// Whether JavaScript compiles (nothing runs): `null`, or the error.
    JsCheck { code: String },
}

impl Job {
    pub fn jq(code: &str) -> Job {
        Job::Jq {
            code: code.to_string(),
            ctx: 0,
        }
    }
    pub fn template(src: &str) -> Job {
        Job::Template {
            src: src.to_string(),
            ctx: 0,
        }
    }
    /// The same job over another of the request's contexts.
    pub fn over(self, ctx: usize) -> Job {
        match self {
            Job::Jq { code, .. } => Job::Jq { code, ctx },
            Job::Template { src, .. } => Job::Template { src, ctx },
            Job::Html { src, .. } => Job::Html { src, ctx },
            Job::Js { code, .. } => Job::Js { code, ctx },
            other => other,
        }
    }
}

/// Contexts are borrowed on the way out (a run's context can be large, and
/// a step sends it once per evaluation) and owned on the way in.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request<'a> {
    pub ctxs: Vec<Cow<'a, Value>>,
    pub jobs: Vec<Job>,
    /// Pure steps evaluated one after another over `ctxs[0]`, each seeing
    /// the outputs of those before it (see [`chain`]); with `jobs` empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<Link>,
}

impl<'a> Request<'a> {
    /// Jobs over a single context.
    pub fn over(ctx: &'a Value, jobs: Vec<Job>) -> Request<'a> {
        Request {
            ctxs: vec![Cow::Borrowed(ctx)],
            jobs,
            chain: vec![],
        }
    }
}

/// Each job's result: a value (a template's is a string), or what went
/// wrong in words for the workflow's author.
pub type JobResult = Result<Value, String>;

#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    pub results: Vec<JobResult>,
    /// A chain's results: each step's jobs' results, up to the first step
    /// that did not succeed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Vec<JobResult>>,
}

/// Runs one job here, in this process: only the child calls this.
pub fn evaluate(job: &Job, ctxs: &[Cow<'_, Value>], js: js::JsLimits) -> JobResult {
    evaluate_in(job, ctxs, js, &mut JqContext::default())
}

/// [`evaluate`], where `first` holds the parts of the first context that
/// jq jobs converted before (a chain's steps read one context that grows).
pub fn evaluate_in(
    job: &Job,
    ctxs: &[Cow<'_, Value>],
    js: js::JsLimits,
    first: &mut JqContext,
) -> JobResult {
    let null = Value::Null;
    let ctx = |i: &usize| ctxs.get(*i).map(|c| c.as_ref()).unwrap_or(&null);
    match job {
        Job::Jq { code, ctx: 0 } => app::domain::expr::eval_in(code, ctx(&0), first),
        Job::Jq { code, ctx: i } => app::domain::expr::eval(code, ctx(i)),
        Job::Template { src, ctx: i } => {
            app::domain::expr::render_template(src, ctx(i)).map(Value::String)
        }
        Job::Html { src, ctx: i } => {
            app::domain::expr::render_html_template(src, ctx(i)).map(Value::String)
        }
        Job::Js { code, ctx: i } => Ok(js::run(code, ctx(i), js)),
        Job::JsCheck { code } => Ok(match js::check(code) {
            Ok(()) => Value::Null,
            Err(e) => Value::String(e),
        }),
    }
}
