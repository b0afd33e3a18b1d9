//! What a broken or hostile model server cannot do: leak the API key into
//! what is kept, crash or hang a worker, park a step for ever, or pass off
//! a non-answer as an answer.

use super::{KEY, classify, triage_flow, world_with};
use crate::common::model_server::{ModelServer, Reply, completion};
use crate::common::world::*;
use app::domain::run::{RunStatus, StepStatus};
use serde_json::json;

#[tokio::test]
async fn a_server_echoing_the_key_gets_it_masked_everywhere_it_is_kept() {
    let server = ModelServer::start(|_, _| {
        Reply::Status(
            401,
            json!({"error": {"message": format!("Incorrect API key provided: {KEY}")}}),
            None,
        )
    })
    .await;
    let w = world_with(&server).await;
    let run = w
        .start(triage_flow(classify(None), false), json!({"text": "x"}))
        .await;
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Failed);
    let step = w.step(&run, "triage").await;
    assert_eq!(
        step.error_class.as_deref(),
        Some("business"),
        "a 4xx is not retried"
    );
    let error = step.error.unwrap();
    assert!(
        error.contains(
            "refused the request (401 Unauthorized): Incorrect API key provided: [secret]"
        ),
        "{error}"
    );
    let attempts =
        app::ops::runs::attempts(&w.db, run.as_ref(), app::domain::records::Paging::FIRST)
            .await
            .unwrap();
    let kept = serde_json::to_string(&attempts).unwrap();
    assert!(kept.contains("[secret]") && !kept.contains(KEY), "{kept}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn answers_that_are_no_answer_fail_as_format_errors_after_one_correction() {
    let server = ModelServer::start(|n, _| match n {
        0 => Reply::Raw("<html>gateway</html>"),
        _ => Reply::Ok(completion(&["I think it is about money"], (10, 5))),
    })
    .await;
    let w = world_with(&server).await;
    let run = w
        .start(triage_flow(classify(None), false), json!({"text": "x"}))
        .await;
    w.idle().await;
    let step = w.step(&run, "triage").await;
    // the first attempt: not JSON at all
    assert_eq!(step.error_class.as_deref(), Some("format"));
    assert_eq!(step.status, StepStatus::Ready, "format errors are retried");
    w.clock.advance(60_000);
    w.idle().await;
    let step = w.step(&run, "triage").await;
    assert_eq!(step.status, StepStatus::Failed);
    let e = step.error.unwrap();
    assert!(
        e.contains("which is not one of the labels (refund, billing, other)"),
        "{e}"
    );
    // the second attempt asked twice: once, then with the correction
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].body["messages"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_silent_server_times_out_as_a_transient_error_and_a_huge_retry_after_is_capped() {
    let slow = ModelServer::start(|n, _| match n {
        0 => Reply::Status(503, json!("down"), Some("99999999999")),
        _ => Reply::Ok(completion(&["other"], (1, 1))),
    })
    .await;
    let w = world_with(&slow).await;
    let run = w
        .start(triage_flow(classify(None), false), json!({"text": "x"}))
        .await;
    w.idle().await;
    let step = w.step(&run, "triage").await;
    assert_eq!(step.error_class.as_deref(), Some("transient"));
    assert_eq!(
        step.not_before,
        T0 + app::domain::machine::MAX_RETRY_AFTER_MS as i64,
        "waits at most an hour"
    );

    // a server that accepts the connection and never answers
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = std::thread::spawn(move || {
        let conn = listener.accept();
        std::thread::sleep(std::time::Duration::from_secs(3));
        drop(conn);
    });
    let w = world_with(&slow).await;
    let c = app::domain::llm::ModelConnection {
        name: "local".into(),
        base_url: format!("http://127.0.0.1:{port}/v1"),
        model: "m".into(),
        api_key_secret: None,
        price_in_per_1k: None,
        price_out_per_1k: None,
        timeout_ms: 1_000,
    };
    app::ops::models::save(&w.db, "admin", c, T0).await.unwrap();
    let run = w
        .start(triage_flow(classify(None), false), json!({"text": "x"}))
        .await;
    w.idle().await;
    let step = w.step(&run, "triage").await;
    assert_eq!(step.error_class.as_deref(), Some("transient"));
    assert!(
        step.error
            .unwrap()
            .contains("did not answer within 1000 ms")
    );
    hold.join().unwrap();
}

#[tokio::test]
async fn malformed_logprobs_measure_nothing_and_fall_back_to_agreement() {
    let bad = json!({"choices": [{"message": {"content": "refund"},
        "logprobs": {"content": [{"token": "refund", "logprob": 3.0}, {"token": "x", "logprob": "NaN"}]}}],
        "usage": {"prompt_tokens": -4, "completion_tokens": "many"}});
    let server = ModelServer::start(move |n, _| match n {
        0 => Reply::Ok(bad.clone()),
        _ => Reply::Ok(completion(&["refund", "refund"], (1, 1))),
    })
    .await;
    let w = world_with(&server).await;
    let run = w
        .start(triage_flow(classify(None), false), json!({"text": "x"}))
        .await;
    assert_eq!(w.succeeded(&run).await.output, Some(json!("refund")));
    let triage = w.step(&run, "triage").await;
    assert_eq!(triage.output.unwrap()["method"], "sample_agreement");
    assert_eq!(triage.confidence, Some(1.0));
}

#[tokio::test]
async fn an_invalid_extract_schema_fails_before_any_request() {
    let server = ModelServer::start(|_, _| Reply::Raw("unused")).await;
    let w = world_with(&server).await;
    let mut cfg =
        app::domain::graph::LlmConfig::new("local", app::domain::graph::LlmMode::Extract, "x");
    cfg.schema = Some(json!({"type": "object", "properties": 5}));
    let node =
        app::domain::graph::Node::new("extract", "Extract", app::domain::graph::NodeKind::Llm(cfg));
    let flow = def(
        vec![start(), node, end("end", None)],
        vec![("start", "out", "extract"), ("extract", "out", "end")],
    );
    let run = w.start(flow, json!({})).await;
    w.idle().await;
    let step = w.step(&run, "extract").await;
    assert_eq!(step.error_class.as_deref(), Some("business"));
    assert!(
        step.error
            .unwrap()
            .contains("the step's schema: the schema itself is not valid")
    );
    assert!(server.seen().is_empty(), "no tokens spent");
}

#[tokio::test]
async fn a_server_refusing_logprobs_gets_asked_again_without_and_agreement_measures() {
    let server = ModelServer::start(|_, body| {
        if body.get("logprobs").is_some() {
            Reply::Status(
                400,
                json!({"error": {"message": "logprobs is not supported with this model"}}),
                None,
            )
        } else {
            Reply::Ok(completion(&["other", "other", "other"], (5, 1)))
        }
    })
    .await;
    let w = world_with(&server).await;
    let run = w
        .start(triage_flow(classify(None), false), json!({"text": "x"}))
        .await;
    assert_eq!(w.succeeded(&run).await.output, Some(json!("other")));
    let triage = w.step(&run, "triage").await;
    assert_eq!(triage.output.unwrap()["method"], "sample_agreement");
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "refused, asked again, then the samples");
    assert!(seen[1].body.get("logprobs").is_none());
}

#[tokio::test]
async fn an_http_step_answered_503_with_retry_after_waits_that_long_too() {
    let server = ModelServer::start(|n, _| match n {
        0 => Reply::Status(503, json!("busy"), Some("45")),
        _ => Reply::Ok(json!({"ok": true})),
    })
    .await;
    let w = World::new().await;
    let flow = def(
        vec![
            start(),
            http("call", &format!("{}/chat/completions", server.base_url)),
            end("end", Some(".steps.call.output.body")),
        ],
        vec![("start", "out", "call"), ("call", "out", "end")],
    );
    let run = w.start(flow, json!({})).await;
    w.idle().await;
    let step = w.step(&run, "call").await;
    assert_eq!(step.error_class.as_deref(), Some("transient"));
    assert_eq!(
        step.not_before,
        T0 + 45_000,
        "the backoff alone would be shorter"
    );
    w.clock.advance(44_000);
    w.idle().await;
    assert_eq!(server.seen().len(), 1);
    w.clock.advance(1_000);
    assert_eq!(w.succeeded(&run).await.output, Some(json!({"ok": true})));
}
