//! The sandbox pool on its own: each bound ends only the child that
//! crossed it, says which bound it was, and the next request is served.

use crate::common::sandbox_config;
use serde_json::json;
use server::sandbox::{Job, Link, Request, Sandbox, SandboxConfig, SandboxError};
use std::time::Duration;

fn pool(timeout_ms: u64, memory_mb: u64) -> Sandbox {
    Sandbox::new(SandboxConfig {
        timeout: Duration::from_millis(timeout_ms),
        memory_mb,
        workers: 1,
        max_output_bytes: 64 * 1024,
        ..sandbox_config()
    })
}

async fn jq(s: &Sandbox, code: &str) -> Result<serde_json::Value, SandboxError> {
    let mut r = s
        .run(&Request::over(&json!({"n": 2}), vec![Job::jq(code)]))
        .await?;
    Ok(r.remove(0).unwrap_or_else(|e| json!({ "error": e })))
}

#[tokio::test]
async fn each_bound_stops_only_its_evaluation_and_names_itself() {
    // generous time, little memory: the memory cap is what stops it
    let s = pool(30_000, 64);
    assert_eq!(jq(&s, ".n * 21").await, Ok(json!(42)));
    assert_eq!(
        jq(&s, "\"x\" * 1000000000").await,
        Err(SandboxError::Limit(
            "the evaluation needed more than 64 MB of memory and was stopped".into()
        ))
    );
    assert_eq!(
        jq(&s, ".n + 1").await,
        Ok(json!(3)),
        "a new child serves the next request"
    );
    // a few times the cap, far less than the 1 GiB the allocator would
    // reserve ahead if the child let it (room the address-space limit
    // would not count): still stopped by the cap
    assert_eq!(
        jq(&s, "\"x\" * 300000000 | length").await,
        Err(SandboxError::Limit(
            "the evaluation needed more than 64 MB of memory and was stopped".into()
        ))
    );
    // memory enough for a million nested arrays; the stack is not
    let s = pool(30_000, 1024);
    assert_eq!(
        jq(&s, "reduce range(1000000) as $i (null; [.]) | tojson").await,
        Err(SandboxError::Limit(
            "the evaluation nested too deeply (the data or the recursion) and was stopped".into()
        ))
    );
    assert_eq!(jq(&s, ".n").await, Ok(json!(2)));

    let s = pool(300, 256);
    assert_eq!(
        jq(&s, "def f: f; f").await,
        Err(SandboxError::Limit(
            "the evaluation ran longer than 300 ms and was stopped".into()
        ))
    );
    assert_eq!(jq(&s, ".n").await, Ok(json!(2)));
    // a result over the cap is an error of that job, not of the child
    assert_eq!(
        jq(&s, "\"x\" * 100000").await,
        Ok(json!({"error": "the result is 97 KB; the limit is 64 KB"}))
    );
}

#[tokio::test]
async fn jobs_of_one_request_see_their_own_contexts() {
    let s = pool(5_000, 256);
    let req = Request {
        ctxs: vec![
            std::borrow::Cow::Owned(json!({"who": "real"})),
            std::borrow::Cow::Owned(json!({"who": "shown"})),
        ],
        jobs: vec![
            Job::template("{{ who }}"),
            Job::template("{{ who }}").over(1),
            Job::jq(".who | ascii_upcase").over(1),
            Job::jq("error(\"boom\")"),
        ],
        chain: vec![],
    };
    let r = s.run(&req).await.unwrap();
    assert_eq!(r[0], Ok(json!("real")));
    assert_eq!(r[1], Ok(json!("shown")));
    assert_eq!(r[2], Ok(json!("SHOWN")));
    assert!(r[3].as_ref().unwrap_err().contains("boom"));
}

fn link(step: &str, node: serde_json::Value) -> Link {
    Link {
        step: step.into(),
        kind: serde_json::from_value(node).unwrap(),
    }
}

#[tokio::test]
async fn a_chain_feeds_each_step_the_outputs_before_it_and_stops_at_a_failure() {
    let s = pool(5_000, 256);
    let ctx = json!({"input": {"n": 1}, "steps": {}});
    let chain = vec![
        link(
            "a",
            json!({"type": "transform", "expression": "{n: (.input.n + 1)}"}),
        ),
        link(
            "b",
            json!({"type": "transform", "expression": "{n: (.steps.a.output.n * 10)}"}),
        ),
        link(
            "c",
            json!({"type": "branch", "conditions": [{"label": "big", "expression": ".steps.b.output.n > 5"}]}),
        ),
        link(
            "d",
            json!({"type": "transform", "expression": "error(\"no\")"}),
        ),
        link(
            "e",
            json!({"type": "transform", "expression": "{never: true}"}),
        ),
    ];
    let links = s.run_chain(&ctx, &chain).await.unwrap();
    assert_eq!(links.len(), 4, "stopped at the failing step: {links:?}");
    assert_eq!(links[0], vec![Ok(json!({"n": 2}))]);
    assert_eq!(links[1], vec![Ok(json!({"n": 20}))]);
    assert_eq!(links[2], vec![Ok(json!(true))]);
    assert!(
        links[3][0].as_ref().unwrap_err().contains("no"),
        "{links:?}"
    );
}

#[tokio::test]
async fn a_chain_shares_one_time_limit_and_the_child_is_replaced() {
    let s = pool(500, 256);
    let ctx = json!({"input": {}, "steps": {}});
    let chain = vec![
        link("a", json!({"type": "transform", "expression": "{ok: 1}"})),
        link(
            "b",
            json!({"type": "transform", "expression": "def f: f; f"}),
        ),
    ];
    let err = s.run_chain(&ctx, &chain).await.unwrap_err();
    assert!(
        matches!(err, SandboxError::Limit(ref m) if m.contains("ran longer than 500 ms")),
        "{err:?}"
    );
    assert_eq!(jq(&s, "1 + 1").await, Ok(json!(2)), "a new child answers");
}
