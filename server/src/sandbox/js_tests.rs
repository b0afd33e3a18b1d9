//! The JavaScript runner's own cases: values, console, errors with lines,
//! limits, and what does not exist.

use super::*;

fn limits() -> JsLimits {
    JsLimits {
        time: Duration::from_millis(300),
        memory_bytes: 32 * 1024 * 1024,
    }
}

#[test]
fn main_over_the_context_gives_the_value_and_the_console_lines() {
    let src = "function main(ctx) {\n  console.log('total', ctx.input.a + 1, {k: 1});\n  console.warn('careful');\n  return {total: ctx.input.a + 1, confidence: 0.75};\n}";
    let out = run(src, &json!({"input": {"a": 41}}), limits());
    assert_eq!(out["value"], json!({"total": 42, "confidence": 0.75}));
    assert_eq!(out["logs"], json!(["total 42 {\"k\":1}", "[warn] careful"]));
}

#[test]
fn an_async_main_is_awaited() {
    let src =
        "async function main(ctx) { const v = await Promise.resolve(ctx.input); return v * 2; }";
    assert_eq!(
        run(src, &json!({"input": 21}), limits())["value"],
        json!(42)
    );
}

#[test]
fn a_thrown_error_names_its_line() {
    let src = "function main(ctx) {\n  const a = 1;\n  return ctx.input.missing.deeper;\n}";
    let out = run(src, &json!({"input": {}}), limits());
    let e = out["error"].as_str().unwrap();
    assert!(e.starts_with("TypeError:"), "{e}");
    assert!(e.ends_with("(line 3)"), "{e}");
}

#[test]
fn a_syntax_error_names_its_line_when_run_and_when_checked() {
    let src = "function main(ctx) {\n  return {a: };\n}";
    let e = run(src, &json!({}), limits())["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("SyntaxError:") && e.ends_with("(line 2)"),
        "{e}"
    );
    let c = check(src).unwrap_err();
    assert!(
        c.starts_with("SyntaxError:") && c.ends_with("(line 2)"),
        "{c}"
    );
    assert_eq!(check("function main(ctx) { return 1; }"), Ok(()));
}

#[test]
fn an_endless_loop_is_stopped_by_the_time_limit_even_when_it_catches() {
    let src = "function main() { while (true) { try { for(;;){} } catch (e) {} } }";
    let t = Instant::now();
    let out = run(src, &json!({}), limits());
    assert_eq!(
        out["error"],
        json!("the code ran longer than 300 ms and was stopped")
    );
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_memory_bomb_is_stopped_by_the_memory_limit() {
    let src = "function main() { let a = []; for (;;) a.push('x'.repeat(1000) + a.length); }";
    let out = run(
        src,
        &json!({}),
        JsLimits {
            time: Duration::from_secs(10),
            memory_bytes: 16 * 1024 * 1024,
        },
    );
    assert_eq!(
        out["error"],
        json!("the code needed more than 16 MB of memory and was stopped")
    );
}

#[test]
fn nothing_outside_the_language_exists() {
    let src = "function main() { return [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof XMLHttpRequest, typeof std, typeof os, typeof __log]; }";
    let out = run(src, &json!({}), limits());
    assert_eq!(out["value"], json!(vec!["undefined"; 8]));
    let out = run(
        "import * as os from 'os';\nfunction main() { return 1 }",
        &json!({}),
        limits(),
    );
    assert!(
        out["error"].as_str().unwrap().starts_with("SyntaxError"),
        "{out}"
    );
}

#[test]
fn careless_code_is_told_what_to_fix() {
    let out = run("const x = 1;", &json!({}), limits());
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("function main(ctx)")
    );
    let out = run("function main() { throw 'plain'; }", &json!({}), limits());
    assert_eq!(out["error"], json!("the code threw plain"));
    let out = run(
        "function main() { return new Promise(() => {}); }",
        &json!({}),
        limits(),
    );
    assert!(
        out["error"].as_str().unwrap().contains("never settles"),
        "{out}"
    );
    let out = run(
        "function main() { const a = {}; a.a = a; return a; }",
        &json!({}),
        limits(),
    );
    assert!(out["error"].as_str().unwrap().contains("circular"), "{out}");
    let out = run(
        "function main() { return undefined; }",
        &json!({}),
        limits(),
    );
    assert_eq!(out["value"], Value::Null);
    let out = run(
        "function main() { function f(){ return f(); } return f(); }",
        &json!({}),
        limits(),
    );
    assert!(out["error"].as_str().unwrap().contains("stack"), "{out}");
    let out = run(
        "function main() { for (let i = 0; i < 1000; i++) console.log(i); return 1; }",
        &json!({}),
        limits(),
    );
    assert_eq!(out["logs"].as_array().unwrap().len(), MAX_LINES + 1);
}
