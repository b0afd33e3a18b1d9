//! Expressions (jq, via the jaq crates) and string templates (minijinja).
//!
//! The same functions run in the browser (live checks in the designer) and
//! on the server (validation on save, evaluation in the engine's sandbox
//! processes, which bound time and memory).
//!
//! Only jq functions that transform the value they are given are available:
//! nothing that reads the environment, stops the process, reads further
//! inputs or writes to the log ([`DENIED`]). Text is checked against
//! [`scan`]'s bounds before any parser recurses over it.

mod context;
pub mod scan;

pub use context::JqContext;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

/// Checks that `code` is a jq program that compiles. The message says what is
/// wrong in words a workflow author can act on.
///
/// Compiling costs about a millisecond (jq's standard library is loaded
/// each time), so answers are remembered for the whole process (every
/// server thread shares them): re-validating a large graph after an edit,
/// or opening it again, compiles only expressions not seen before.
pub fn check(code: &str) -> Result<(), String> {
    scan::check_jq_bounds(code)?;
    if let Some(r) = remembered(|m| m.get(code).cloned()) {
        return r;
    }
    // compiled outside the lock: other threads go on checking meanwhile
    let r = compile(code).map(|_| ());
    remember(code, r.clone());
    r
}

type Answers = std::collections::HashMap<String, Result<(), String>>;

/// The answers [`check`] gave, for the whole process.
fn remembered<R>(f: impl FnOnce(&mut Answers) -> R) -> R {
    use std::sync::{LazyLock, Mutex};
    static CHECKED: LazyLock<Mutex<Answers>> = LazyLock::new(Default::default);
    // a panic elsewhere while holding it leaves a usable map
    let mut m = CHECKED.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut m)
}

fn remember(code: &str, answer: Result<(), String>) {
    const MAX_REMEMBERED: usize = 16_384;
    remembered(|m| {
        if m.len() >= MAX_REMEMBERED {
            m.clear();
        }
        m.insert(code.to_string(), answer);
    });
}

/// Records that `code` compiles because [`check`] said so elsewhere: the
/// browser learns it from the server's validation of the same definition
/// (see `validate::remember_checked`), so its first check of a large graph
/// compiles only what was edited since.
pub fn remember_sound(code: &str) {
    if scan::check_jq_bounds(code).is_ok() {
        remember(code, Ok(()));
    }
}

/// Whether [`check`] would answer `code` without compiling it.
#[cfg(test)]
pub(crate) fn is_remembered(code: &str) -> bool {
    remembered(|m| m.contains_key(code))
}

/// jq functions that reach outside the value: the process environment,
/// stopping the process, reading more inputs, logging, and the clock (a
/// step's result must depend on its input alone, so a repeated attempt
/// computes the same). They are not defined, so using one is "unknown name".
pub const DENIED: &[&str] = &[
    "env",
    "halt",
    "halt_error",
    "input",
    "inputs",
    "debug",
    "debug_empty",
    "stderr",
    "stderr_empty",
    "now",
    "localtime",
    "strflocaltime",
    "input_filename",
    "get_search_list",
    "get_prog_origin",
    "get_jq_origin",
];

fn allowed(name: &str) -> bool {
    !DENIED.contains(&name)
}

/// The definitions and native functions an expression may use.
fn library() -> (
    impl Iterator<Item = jaq_core::load::parse::Def<&'static str>>,
    impl Iterator<Item = jaq_core::native::Fun<data::JustLut<Val>>>,
) {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .filter(|d| allowed(d.name));
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs())
        .filter(|(name, _, _)| allowed(name));
    (defs, funs)
}

/// Every function an expression may call, as `name/arity`, sorted (for the
/// documentation, and so a new jaq version cannot add one unnoticed).
pub fn available_functions() -> Vec<String> {
    let (defs, funs) = library();
    let mut names: Vec<String> = defs
        .map(|d| format!("{}/{}", d.name, d.args.len()))
        .chain(funs.map(|(name, args, _)| format!("{name}/{}", args.len())))
        .filter(|n| !n.starts_with('_'))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn compile(code: &str) -> Result<jaq_core::Filter<data::JustLut<Val>>, String> {
    if code.trim().is_empty() {
        return Err("the expression is empty".into());
    }
    scan::check_jq_bounds(code)?;
    let (defs, funs) = library();
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|errs| describe_load_errors(code, errs))?;
    Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| {
            let names: Vec<String> = errs
                .into_iter()
                .flat_map(|(_, es)| es.into_iter().map(|(name, _)| format!("`{name}`")))
                .collect();
            format!("unknown name {}", names.join(", "))
        })
}

fn describe_load_errors<P>(code: &str, errs: jaq_core::load::Errors<&str, P>) -> String {
    use jaq_core::load::Error;
    let mut out = Vec::new();
    for (_file, err) in errs {
        match err {
            Error::Io(es) => out.extend(es.into_iter().map(|(p, e)| format!("{p}: {e}"))),
            Error::Lex(es) => out.extend(es.into_iter().map(|(expected, at)| {
                format!(
                    "expected {} at column {}",
                    expected.as_str(),
                    column(code, at)
                )
            })),
            Error::Parse(es) => out.extend(es.into_iter().map(|(expected, at)| {
                let found = if at.trim().is_empty() {
                    "the end of the expression".to_string()
                } else {
                    format!("`{}`", first_word(at))
                };
                let expected = match expected.as_str() {
                    "nothing" => "the end of the expression",
                    other => other,
                };
                format!(
                    "expected {expected} but found {found} at column {}",
                    column(code, at)
                )
            })),
        }
    }
    if out.is_empty() {
        "the expression cannot be parsed".into()
    } else {
        out.join("; ")
    }
}

/// The text up to the first space or line end (at most 24 characters,
/// then "…"): what a parse error found, whole words only.
fn first_word(at: &str) -> String {
    let word = at.split(char::is_whitespace).next().unwrap_or(at);
    if word.chars().count() > 24 {
        format!("{}…", word.chars().take(24).collect::<String>())
    } else {
        word.to_string()
    }
}

/// 1-based column of the sub-slice `at` inside `code`.
fn column(code: &str, at: &str) -> usize {
    let offset = (at.as_ptr() as usize).saturating_sub(code.as_ptr() as usize);
    code.get(..offset.min(code.len()))
        .map(|s| s.chars().count() + 1)
        .unwrap_or(1)
}

type Compiled = std::rc::Rc<jaq_core::Filter<data::JustLut<Val>>>;

/// Compiling loads jq's standard library, which costs far more than running
/// a typical expression; each thread keeps the filters it compiled.
fn cached(code: &str) -> Result<Compiled, String> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const MAX_CACHED: usize = 512;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Compiled>> = RefCell::new(HashMap::new());
    }
    if let Some(f) = CACHE.with(|c| c.borrow().get(code).cloned()) {
        return Ok(f);
    }
    let f = std::rc::Rc::new(compile(code)?);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_CACHED {
            c.clear();
        }
        c.insert(code.to_string(), f.clone());
    });
    Ok(f)
}

/// Runs `code` on `input` and returns its first output.
pub fn eval(code: &str, input: &Value) -> Result<Value, String> {
    // read from the context in place: a run's context grows with every step
    run(code, context::convert(input)?)
}

/// [`eval`] over a context whose parts `jq` converted before (a chain's
/// steps: see [`JqContext`]).
pub fn eval_in(code: &str, input: &Value, jq: &mut JqContext) -> Result<Value, String> {
    run(code, jq.val(input)?)
}

/// Runs `code` over `input`: its first result.
fn run(code: &str, input: Val) -> Result<Value, String> {
    let filter = cached(code)?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    let mut out = filter.id.run((ctx, input)).map(unwrap_valr);
    match out.next() {
        // jaq's Display writes JSON, and serde_json reads it back.
        Some(Ok(v)) => serde_json::from_str(&v.to_string()).map_err(|e| {
            if e.to_string().contains("recursion limit") {
                "the result nests deeper than 128 levels".to_string()
            } else {
                format!("the result is not JSON: {e}")
            }
        }),
        Some(Err(e)) => Err(format!("the expression failed: {e}")),
        None => Err("the expression produced no value".into()),
    }
}

/// Whether a jq result counts as true (jq semantics: all but false and null).
pub fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

/// Checks that `src` is a well-formed template.
pub fn check_template(src: &str) -> Result<(), String> {
    scan::check_template_bounds(src)?;
    let env = minijinja::Environment::new();
    env.template_from_str(src)
        .map(|_| ())
        .map_err(|e| describe_template_error(&e))
}

/// How many instructions one template rendering may execute.
pub const TEMPLATE_FUEL: u64 = 2_000_000;

/// Renders a template over `ctx` (the run context). Undefined references
/// are errors rather than silently empty strings. Loops are bounded by
/// [`TEMPLATE_FUEL`]; the engine also renders in a sandbox process that
/// bounds time and memory.
pub fn render_template(src: &str, ctx: &Value) -> Result<String, String> {
    render(src, ctx, false)
}

/// Renders an HTML template: every value printed from `ctx` is
/// HTML-escaped (`| safe` marks a value as HTML already).
pub fn render_html_template(src: &str, ctx: &Value) -> Result<String, String> {
    render(src, ctx, true)
}

fn render(src: &str, ctx: &Value, html: bool) -> Result<String, String> {
    scan::check_template_bounds(src)?;
    let mut env = minijinja::Environment::new();
    if html {
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    }
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    let tmpl = env
        .template_from_str(src)
        .map_err(|e| describe_template_error(&e))?;
    tmpl.render(minijinja::Value::from(minijinja::value::Serde(ctx)))
        .map_err(|e| describe_template_error(&e))
}

fn describe_template_error(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!(
            "{} (line {line})",
            e.detail().unwrap_or(&e.kind().to_string())
        ),
        None => e.detail().unwrap_or(&e.kind().to_string()).to_string(),
    }
}

#[cfg(test)]
mod tests;
