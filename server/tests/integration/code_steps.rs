//! Code steps through the engine: the script's value is the output, its
//! `confidence` is reported, its console lines are in the step log, and a
//! hostile or careless script fails only its own step, saying why.

use crate::common::world::*;
use app::domain::graph::*;
use serde_json::json;

fn code(id: &str, source: &str) -> Node {
    Node::new(
        id,
        id,
        NodeKind::Code {
            source: source.into(),
        },
    )
}

async fn attempts(w: &World, run: &str) -> Vec<app::domain::records::AttemptRecord> {
    let mut conn = w.db.acquire().await.unwrap();
    app::store::runs::get_attempts(
        &mut conn,
        &app::domain::ids::RunId::from_stored(run),
        app::domain::records::Paging::FIRST,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_code_step_outputs_main_s_value_reports_its_confidence_and_logs_its_console() {
    let w = World::new().await;
    let src = "function main(ctx) {\n  const total = ctx.input.lines.reduce((a, l) => a + l.qty * l.price, 0);\n  console.log('lines', ctx.input.lines.length, 'total', total);\n  return { total, confidence: 0.8 };\n}";
    let d = def(
        vec![
            start(),
            code("sum", src),
            end("end", Some(".steps.sum.output.total")),
        ],
        vec![("start", "out", "sum"), ("sum", "out", "end")],
    );
    let input = json!({"lines": [{"qty": 2, "price": 5}, {"qty": 1, "price": 32}]});
    let run = w.start(d, input).await;
    let r = w.succeeded(&run).await;
    assert_eq!(r.output, Some(json!(42)));
    let step = w.step(&run, "sum").await;
    assert_eq!(step.output, Some(json!({"total": 42, "confidence": 0.8})));
    assert_eq!(step.confidence, Some(0.8));
    let a = attempts(&w, &run).await;
    let sum = a.iter().find(|a| a.node_id == "sum").unwrap();
    assert_eq!(sum.console, ["lines 2 total 42"]);
}

#[tokio::test]
async fn a_throwing_script_takes_the_error_edge_with_its_line_and_keeps_its_console() {
    let w = World::new().await;
    let src = "function main(ctx) {\n  console.log('checking');\n  if (!ctx.input.amount) {\n    throw new Error('amount is missing');\n  }\n  return 1;\n}";
    let d = def(
        vec![
            start(),
            code("check", src),
            end("ok", None),
            end("caught", Some(".steps.check.error")),
        ],
        vec![
            ("start", "out", "check"),
            ("check", "out", "ok"),
            ("check", "error", "caught"),
        ],
    );
    let run = w.start(d, json!({})).await;
    w.succeeded(&run).await;
    let step = w.step(&run, "check").await;
    assert_eq!(
        step.error.as_deref(),
        Some("Error: amount is missing (line 4)")
    );
    assert_eq!(step.error_class.as_deref(), Some("business"));
    let a = attempts(&w, &run).await;
    let check = a.iter().find(|a| a.node_id == "check").unwrap();
    assert_eq!(check.console, ["checking"]);
    assert_eq!(
        w.step(&run, "caught").await.status,
        app::domain::run::StepStatus::Succeeded
    );
}

#[tokio::test]
async fn hostile_scripts_are_stopped_by_their_limits_and_reach_nothing_outside() {
    let w = World::new().await;
    let cases = [
        (
            "function main() { for (;;) {} }",
            "the code ran longer than 800 ms and was stopped",
        ),
        (
            "function main() { const a = []; for (;;) a.push(new Array(100000).fill(a.length)); }",
            "the code needed more than 128 MB of memory and was stopped",
        ),
        (
            "function main() { return require('fs').readFileSync('/etc/passwd', 'utf8'); }",
            "ReferenceError: require is not defined (line 1)",
        ),
        (
            "function main() { return fetch('http://127.0.0.1:1/'); }",
            "ReferenceError: fetch is not defined (line 1)",
        ),
        (
            "import * as std from 'std';\nfunction main() { return std.loadFile('/etc/passwd'); }",
            "SyntaxError: Unexpected token '*' (line 1)",
        ),
        (
            "async function main() { const os = await import('os'); return os.exec(['id']); }",
            "ReferenceError: could not load module 'os'",
        ),
    ];
    for (src, said) in cases {
        let d = def(
            vec![start(), code("bad", src), end("end", None)],
            vec![("start", "out", "bad"), ("bad", "out", "end")],
        );
        let run = w.start(d, json!({})).await;
        w.idle().await;
        let r = w.run(&run).await.run;
        let step = w.step(&run, "bad").await;
        // the step's state in the message: a run left waiting for a retry
        // says which error the sandbox gave (it failed so once, under load)
        assert_eq!(
            r.status,
            app::domain::run::RunStatus::Failed,
            "{src}: the step is {:?} with {:?} after {} attempt(s)",
            step.status,
            step.error,
            step.attempt
        );
        assert_eq!(step.error.as_deref(), Some(said), "{src}");
    }
    // and the sandbox still serves the next script
    let d = def(
        vec![
            start(),
            code("ok", "function main(ctx) { return ctx.input * 2; }"),
            end("end", Some(".steps.ok.output")),
        ],
        vec![("start", "out", "ok"), ("ok", "out", "end")],
    );
    let run = w.start(d, json!(21)).await;
    assert_eq!(w.succeeded(&run).await.output, Some(json!(42)));
}
