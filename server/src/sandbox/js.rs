//! JavaScript for Code steps: QuickJS (through `rquickjs`), run inside the
//! sandbox child only. A fresh runtime per evaluation, with its own memory
//! cap and a deadline checked by QuickJS's interrupt handler, so a runaway
//! script is stopped with a message instead of by killing the process (the
//! child's address-space cap and the parent's timeout stay behind it).
//! The context has the language only: no `require`, modules, files,
//! timers or network exist in it.
//!
//! The source defines `function main(ctx)`; its return value (or what the
//! promise it returns resolves to) is the step's output. `console.*` lines
//! are collected for the step log.

use rquickjs::context::EvalOptions;
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Promise, Runtime};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Bounds for one evaluation.
#[derive(Clone, Copy, Debug)]
pub struct JsLimits {
    pub time: Duration,
    pub memory_bytes: usize,
}

/// The file name errors are reported against.
const FILE: &str = "code.js";
/// Console lines kept, and characters per line; past them a note says so.
const MAX_LINES: usize = 200;
const MAX_LINE_CHARS: usize = 2000;
/// QuickJS's own recursion bound, well inside any thread's stack (the
/// child's thread has 16 MB).
const MAX_STACK: usize = 1024 * 1024;

/// Defines `console` over the Rust collector `__log`, then hides it.
const PRELUDE: &str = r#"(() => {
  const log = globalThis.__log;
  delete globalThis.__log;
  const text = (v) => {
    if (typeof v === "string") return v;
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; }
    catch (e) { return String(v); }
  };
  const at = (level) => (...args) => log(level, args.map(text).join(" "));
  globalThis.console = { log: at("log"), info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
})();"#;

/// Runs `source` over `ctx`: `{"value": …, "logs": [...]}` when `main`
/// returned, `{"error": "…", "logs": [...]}` when it did not (with the line
/// the error came from).
pub fn run(source: &str, ctx: &Value, limits: JsLimits) -> Value {
    let logs: Rc<RefCell<Vec<String>>> = Rc::default();
    let result = evaluate(source, ctx, limits, logs.clone());
    let logs = Rc::try_unwrap(logs)
        .map(RefCell::into_inner)
        .unwrap_or_else(|l| l.borrow().clone());
    match result {
        Ok(value) => json!({"value": value, "logs": logs}),
        Err(error) => json!({"error": error, "logs": logs}),
    }
}

/// Whether `source` compiles, and if not the error with its line.
pub fn check(source: &str) -> Result<(), String> {
    let limits = JsLimits {
        time: Duration::from_millis(500),
        memory_bytes: 32 * 1024 * 1024,
    };
    let (_rt, context) = runtime(limits)?;
    context.with(|ctx| {
        // compiled as a function body that is never called, so nothing runs
        let wrapped = format!("(function () {{\n{source}\n}})");
        ctx.eval_with_options::<rquickjs::Value, _>(wrapped, options())
            .catch(&ctx)
            .map(|_| ())
            .map_err(|e| describe(e, 1, limits))
    })
}

fn options() -> EvalOptions {
    let mut o = EvalOptions::default();
    o.global = true;
    o.strict = false;
    o.filename = Some(FILE.into());
    o
}

fn runtime(limits: JsLimits) -> Result<(Runtime, Context), String> {
    let rt = Runtime::new().map_err(|e| format!("the JavaScript engine did not start: {e}"))?;
    rt.set_memory_limit(limits.memory_bytes);
    rt.set_max_stack_size(MAX_STACK);
    let deadline = Instant::now() + limits.time;
    rt.set_interrupt_handler(Some(Box::new(move || Instant::now() >= deadline)));
    let context =
        Context::full(&rt).map_err(|e| format!("the JavaScript engine did not start: {e}"))?;
    Ok((rt, context))
}

fn evaluate(
    source: &str,
    input: &Value,
    limits: JsLimits,
    logs: Rc<RefCell<Vec<String>>>,
) -> Result<Value, String> {
    let (rt, context) = runtime(limits)?;
    let out = context.with(|ctx| -> Result<Value, String> {
        install_console(&ctx, logs).map_err(|e| describe(e, 0, limits))?;
        ctx.eval_with_options::<(), _>(source, options())
            .catch(&ctx)
            .map_err(|e| describe(e, 0, limits))?;
        let main: Option<Function> = ctx
            .globals()
            .get::<_, Option<Function>>("main")
            .ok()
            .flatten();
        let Some(main) = main else {
            return Err(
                "the code defines no function main(ctx); write `function main(ctx) { return …; }`"
                    .into(),
            );
        };
        let arg = ctx
            .json_parse(input.to_string())
            .catch(&ctx)
            .map_err(|e| describe(e, 0, limits))?;
        let mut value: rquickjs::Value = main
            .call((arg,))
            .catch(&ctx)
            .map_err(|e| describe(e, 0, limits))?;
        if let Some(p) = value.as_promise().cloned() {
            value = settle(&ctx, p).map_err(|e| describe(e, 0, limits))?;
        }
        if value.is_undefined() {
            return Ok(Value::Null);
        }
        let text = ctx
            .json_stringify(value)
            .catch(&ctx)
            .map_err(|e| describe(e, 0, limits))?;
        match text {
            None => Ok(Value::Null),
            Some(s) => {
                let s = s.to_string().map_err(|e| e.to_string())?;
                serde_json::from_str(&s).map_err(|e| format!("main returned what is not JSON: {e}"))
            }
        }
    });
    drop(context);
    drop(rt);
    out
}

/// Drives the job queue until `p` settles (no timers exist, so a promise
/// nothing will settle is reported as such).
fn settle<'js>(ctx: &Ctx<'js>, p: Promise<'js>) -> Result<rquickjs::Value<'js>, CaughtError<'js>> {
    match p.finish::<rquickjs::Value>() {
        Err(rquickjs::Error::WouldBlock) => {
            Err(CaughtError::Error(rquickjs::Error::new_from_js_message(
                "promise",
                "value",
                "main returned a promise that never settles (there are no timers or I/O here)",
            )))
        }
        other => other.catch(ctx),
    }
}

fn install_console<'js>(
    ctx: &Ctx<'js>,
    logs: Rc<RefCell<Vec<String>>>,
) -> Result<(), CaughtError<'js>> {
    let log = Function::new(ctx.clone(), move |level: String, text: String| {
        let mut logs = logs.borrow_mut();
        match logs.len() {
            n if n < MAX_LINES => {
                let mut line = if level == "log" {
                    text
                } else {
                    format!("[{level}] {text}")
                };
                if line.chars().count() > MAX_LINE_CHARS {
                    line = format!(
                        "{}… (cut)",
                        line.chars().take(MAX_LINE_CHARS).collect::<String>()
                    );
                }
                logs.push(line);
            }
            n if n == MAX_LINES => logs.push(format!(
                "… more console output left out (the first {MAX_LINES} lines are kept)"
            )),
            _ => {}
        }
    })
    .catch(ctx)?;
    ctx.globals().set("__log", log).catch(ctx)?;
    ctx.eval::<(), _>(PRELUDE).catch(ctx)
}

/// What went wrong, in words for the author, with the line in their code
/// (`offset`: lines the source was moved down by before compiling).
fn describe(e: CaughtError<'_>, offset: u32, limits: JsLimits) -> String {
    match e {
        CaughtError::Exception(ex) => {
            let message = ex.message().unwrap_or_default();
            let stack = ex.stack().unwrap_or_default();
            if message == "interrupted" {
                return format!(
                    "the code ran longer than {} ms and was stopped",
                    limits.time.as_millis()
                );
            }
            if message == "out of memory" {
                return memory(limits);
            }
            let name = ex
                .get::<_, Option<String>>("name")
                .ok()
                .flatten()
                .unwrap_or_else(|| "Error".into());
            match line_of(&stack, offset).or_else(|| {
                ex.get::<_, Option<u32>>("lineNumber")
                    .ok()
                    .flatten()
                    .map(|l| l.saturating_sub(offset))
            }) {
                Some(line) => format!("{name}: {message} (line {line})"),
                None => format!("{name}: {message}"),
            }
        }
        CaughtError::Value(v) => {
            let text = v
                .as_string()
                .and_then(|s| s.to_string().ok())
                .or_else(|| {
                    v.ctx()
                        .json_stringify(v.clone())
                        .ok()
                        .flatten()
                        .and_then(|s| s.to_string().ok())
                })
                .unwrap_or_else(|| "a value that is not an Error".into());
            format!("the code threw {text}")
        }
        CaughtError::Error(rquickjs::Error::Allocation) => memory(limits),
        CaughtError::Error(e) => {
            let text = e.to_string();
            if text.contains("out of memory") {
                memory(limits)
            } else {
                text
            }
        }
    }
}

fn memory(limits: JsLimits) -> String {
    format!(
        "the code needed more than {} MB of memory and was stopped",
        limits.memory_bytes / (1024 * 1024)
    )
}

/// The first `code.js:LINE` of a stack, moved back by `offset`.
fn line_of(stack: &str, offset: u32) -> Option<u32> {
    let at = stack.find("code.js:")? + "code.js:".len();
    let digits: String = stack[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse::<u32>().ok().map(|l| l.saturating_sub(offset))
}

#[cfg(test)]
#[path = "js_tests.rs"]
mod tests;
