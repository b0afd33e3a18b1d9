//! Expressions (jq, via the jaq crates) and string templates (minijinja).
//!
//! The same functions run in the browser (live checks in the designer) and
//! on the server (validation on save, evaluation in the engine).

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

/// Checks that `code` is a jq program that compiles. The message says what is
/// wrong in words a workflow author can act on.
///
/// Compiling costs about a millisecond (jq's standard library is loaded
/// each time), so answers are remembered per thread: re-validating a large
/// graph after an edit compiles only the expression that changed.
pub fn check(code: &str) -> Result<(), String> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const MAX_REMEMBERED: usize = 8192;
    thread_local! {
        static CHECKED: RefCell<HashMap<String, Result<(), String>>> = RefCell::new(HashMap::new());
    }
    if let Some(r) = CHECKED.with(|c| c.borrow().get(code).cloned()) {
        return r;
    }
    let r = compile(code).map(|_| ());
    CHECKED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_REMEMBERED {
            c.clear();
        }
        c.insert(code.to_string(), r.clone());
    });
    r
}

fn compile(code: &str) -> Result<jaq_core::Filter<data::JustLut<Val>>, String> {
    if code.trim().is_empty() {
        return Err("the expression is empty".into());
    }
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
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
                let found = if at.is_empty() {
                    "end of expression"
                } else {
                    at
                };
                format!(
                    "expected {} but found `{}` at column {}",
                    expected.as_str(),
                    found.chars().take(12).collect::<String>(),
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
    let filter = cached(code)?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    let input: Val = serde_json::from_value(input.clone()).map_err(|e| e.to_string())?;
    let mut out = filter.id.run((ctx, input)).map(unwrap_valr);
    match out.next() {
        // jaq's Display writes JSON, and serde_json reads it back.
        Some(Ok(v)) => serde_json::from_str(&v.to_string()).map_err(|e| e.to_string()),
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
    let env = minijinja::Environment::new();
    env.template_from_str(src)
        .map(|_| ())
        .map_err(|e| describe_template_error(&e))
}

/// Renders a template over `ctx` (the run context). Undefined references
/// are errors rather than silently empty strings.
pub fn render_template(src: &str, ctx: &Value) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_expressions_compile() {
        for code in [
            ".input.amount > 1000",
            "{total: (.input.items | map(.price) | add)}",
            ".steps.extract.output.vendor // \"unknown\"",
            "if .input.x then 1 else 2 end",
        ] {
            assert_eq!(check(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = check(".input.amount >").unwrap_err();
        assert!(err.contains("column"), "{err}");
        let err = check("{a: }").unwrap_err();
        assert!(err.contains("expected"), "{err}");
        assert_eq!(check("   ").unwrap_err(), "the expression is empty");
    }

    #[test]
    fn unknown_functions_are_named() {
        let err = check("nosuchfn(1)").unwrap_err();
        assert!(err.contains("nosuchfn"), "{err}");
    }

    #[test]
    fn eval_reads_the_context() {
        let ctx = json!({"input": {"amount": 1500, "items": [{"price": 2}, {"price": 3}]}});
        assert_eq!(eval(".input.amount > 1000", &ctx), Ok(json!(true)));
        assert_eq!(eval(".input.items | map(.price) | add", &ctx), Ok(json!(5)));
        assert!(eval("error(\"boom\")", &ctx).unwrap_err().contains("boom"));
        assert!(eval("empty", &ctx).unwrap_err().contains("no value"));
    }

    #[test]
    fn truthiness_follows_jq() {
        assert!(truthy(&json!(0)));
        assert!(truthy(&json!("")));
        assert!(!truthy(&json!(null)));
        assert!(!truthy(&json!(false)));
    }

    #[test]
    fn templates_check_and_render() {
        assert_eq!(check_template("/ledger/{{ input.id }}"), Ok(()));
        let err = check_template("/ledger/{{ input.id ").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        let ctx = json!({"input": {"id": 7}});
        assert_eq!(
            render_template("/ledger/{{ input.id }}", &ctx),
            Ok("/ledger/7".into())
        );
        assert!(render_template("{{ input.missing.deeper }}", &ctx).is_err());
    }
}
