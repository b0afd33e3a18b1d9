//! The sandbox pool on its own: each bound ends only the child that
//! crossed it, says which bound it was, and the next request is served.

use crate::common::sandbox_config;
use serde_json::json;
use server::sandbox::{Job, Request, Sandbox, SandboxConfig, SandboxError};
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
    };
    let r = s.run(&req).await.unwrap();
    assert_eq!(r[0], Ok(json!("real")));
    assert_eq!(r[1], Ok(json!("shown")));
    assert_eq!(r[2], Ok(json!("SHOWN")));
    assert!(r[3].as_ref().unwrap_err().contains("boom"));
}
