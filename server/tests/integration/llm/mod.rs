//! LLM steps through the engine against a local OpenAI-compatible server:
//! measured confidence and the gate, the `uncertain` port, an edited label
//! deciding the branch, extract's schema retry, Retry-After, agreement
//! across samples, tokens and cost, lineage; and what a hostile or broken
//! model server cannot do.

mod example;
mod hostile;
mod rest;

use crate::common::model_server::{ModelServer, Reply, completion, with_logprobs};
use crate::common::world::*;
use app::domain::auth::{Principal, Role};
use app::domain::graph::*;
use app::domain::llm::ModelConnection;
use app::domain::run::{RunStatus, StepStatus};
use app::ops::approvals::{DecisionInput, decide};
use serde_json::{Value, json};

pub(crate) const KEY: &str = "sk-test-4f9a1c";

/// A world whose engine can open secrets, with connection `local` to
/// `server` (API key in secret `MODEL_KEY`, priced 1.0 / 2.0 per 1k).
pub(crate) async fn world_with(server: &ModelServer) -> World {
    let mut w = World::new().await;
    let sealer = app::security::Sealer::new([5; 32]);
    w.engine = w.engine.with_sealer(sealer.clone());
    app::ops::secrets::set_secret(&w.db, &sealer, "admin", "MODEL_KEY", KEY, "127.0.0.1", T0)
        .await
        .unwrap();
    let c = ModelConnection {
        name: "local".into(),
        base_url: server.base_url.clone(),
        model: "test-model".into(),
        api_key_secret: Some("MODEL_KEY".into()),
        price_in_per_1k: Some(1.0),
        price_out_per_1k: Some(2.0),
        timeout_ms: 5_000,
    };
    app::ops::models::save(&w.db, "admin", c, T0).await.unwrap();
    w
}

pub(crate) fn classify(threshold: Option<f64>) -> Node {
    let mut cfg = LlmConfig::new("local", LlmMode::Classify, "Ticket: {{ input.text }}");
    cfg.system = "You triage support tickets.".into();
    cfg.labels = [
        ("refund", "the customer wants money back"),
        ("billing", "a question about an invoice"),
        ("other", "anything else"),
    ]
    .iter()
    .map(|(n, d)| LlmLabel {
        name: n.to_string(),
        description: d.to_string(),
    })
    .collect();
    let mut n = Node::new("triage", "Triage", NodeKind::Llm(cfg));
    n.confidence_threshold = threshold;
    n
}

/// Start -> triage -> one End per label (and `unsure` on `uncertain` when
/// `uncertain`).
pub(crate) fn triage_flow(node: Node, uncertain: bool) -> WorkflowDef {
    let mut nodes = vec![start(), node];
    let mut edges = vec![("start", "out", "triage")];
    for l in ["refund", "billing", "other"] {
        nodes.push(end(&format!("end_{l}"), Some(&format!("\"{l}\""))));
    }
    edges.extend([
        ("triage", "refund", "end_refund"),
        ("triage", "billing", "end_billing"),
        ("triage", "other", "end_other"),
    ]);
    if uncertain {
        nodes.push(end("unsure", Some("\"asked a person\"")));
        edges.push(("triage", "uncertain", "unsure"));
    }
    def(nodes, edges)
}

/// "refund" at 0.62, "billing" 0.30, "other" 0.08: confidence 0.62.
fn doubtful_refund() -> Value {
    with_logprobs(
        &[
            ("refund", 0.62, &[("billing", 0.30), ("other", 0.08)]),
            ("\n", 0.99, &[]),
            ("Money back.", 0.9, &[]),
        ],
        (120, 4),
    )
}

#[tokio::test]
async fn low_confidence_waits_for_a_person_and_an_edited_label_takes_its_branch() {
    let server = ModelServer::start(|_, _| Reply::Ok(doubtful_refund())).await;
    let w = world_with(&server).await;
    let run = w
        .start(
            triage_flow(classify(Some(0.7)), false),
            json!({"text": "Where is my money?"}),
        )
        .await;
    w.idle().await;
    let step = w.step(&run, "triage").await;
    assert_eq!(step.status, StepStatus::Waiting);

    // the request: key, log-probabilities, the labels in the system prompt
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    let body = &seen[0].body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(
        (body["logprobs"].clone(), body["top_logprobs"].clone()),
        (json!(true), json!(5))
    );
    assert!(body.get("n").is_none());
    assert_eq!(body["messages"][0]["role"], "system");
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.starts_with("You triage support tickets."),
        "{system}"
    );
    assert!(system.contains("- refund: the customer wants money back"));
    assert_eq!(body["messages"][1]["content"], "Ticket: Where is my money?");

    // the item: the proposal with its reason, confidence, method, lineage
    let item = crate::approvals::item(&w, &run, "triage").await;
    assert_eq!(item.reason, "confidence");
    assert_eq!(item.proposed["label"], "refund");
    assert_eq!(item.proposed["reason"], "Money back.");
    assert_eq!(item.proposed["method"], "label_logprobs");
    let c = item.proposed["confidence"].as_f64().unwrap();
    assert!((c - 0.62).abs() < 1e-9, "{c}");
    assert!(
        item.instructions.contains("below the threshold 0.7"),
        "{}",
        item.instructions
    );
    let lineage = &item.context["lineage"]["triage"];
    assert_eq!(lineage["model"], "test-model");
    assert_eq!(lineage["connection"], "local");
    assert_eq!(lineage["prompt_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(lineage["input_sha256"].as_str().unwrap().len(), 64);

    // a label that is none of the step's is refused: it would lead nowhere
    let mut wrong = item.proposed.clone();
    wrong["label"] = json!("refunds");
    let input = DecisionInput {
        decision: "approve".into(),
        output: Some(wrong),
        ..Default::default()
    };
    let e = decide(
        &w.db,
        &Principal::user("ann", Role::Approver),
        item.id.as_ref(),
        input,
        T0,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.http_status(), 400);
    assert!(
        e.message
            .contains("label must be one of refund, billing, other"),
        "{}",
        e.message
    );

    // a person corrects the label: the run goes where the edit leads
    let mut edited = item.proposed.clone();
    edited["label"] = json!("billing");
    let input = DecisionInput {
        decision: "approve".into(),
        output: Some(edited),
        ..Default::default()
    };
    decide(
        &w.db,
        &Principal::user("ann", Role::Approver),
        item.id.as_ref(),
        input,
        T0,
    )
    .await
    .unwrap();
    let done = w.succeeded(&run).await;
    assert_eq!(done.output, Some(json!("billing")));
    assert_eq!(w.step(&run, "end_refund").await.status, StepStatus::Skipped);
    let triage = w.step(&run, "triage").await;
    assert_eq!(
        (triage.port.as_deref(), triage.confidence),
        (Some("billing"), Some(1.0))
    );
}

#[tokio::test]
async fn the_uncertain_port_takes_a_doubtful_answer_without_asking_anyone() {
    let server = ModelServer::start(|_, _| Reply::Ok(doubtful_refund())).await;
    let w = world_with(&server).await;
    let run = w
        .start(
            triage_flow(classify(Some(0.7)), true),
            json!({"text": "hm"}),
        )
        .await;
    let done = w.succeeded(&run).await;
    assert_eq!(done.output, Some(json!("asked a person")));
    assert_eq!(
        w.step(&run, "triage").await.port.as_deref(),
        Some("uncertain")
    );
    let mut conn = w.db.acquire().await.unwrap();
    let item = app::store::approvals::for_step(&mut conn, &run, "triage")
        .await
        .unwrap();
    assert!(item.is_none(), "no confidence item");
    // a sure answer takes its label's port
    let sure = with_logprobs(&[("billing", 0.97, &[("refund", 0.02)])], (50, 1));
    let server = ModelServer::start(move |_, _| Reply::Ok(sure.clone())).await;
    let w = world_with(&server).await;
    let run = w
        .start(
            triage_flow(classify(Some(0.7)), true),
            json!({"text": "invoice 7"}),
        )
        .await;
    assert_eq!(w.succeeded(&run).await.output, Some(json!("billing")));
}

fn extractor() -> Node {
    let mut cfg = LlmConfig::new("local", LlmMode::Extract, "{{ input.text }}");
    cfg.schema = Some(json!({
        "type": "object",
        "properties": {"total": {"type": "number"}, "currency": {"type": "string"}},
        "required": ["total", "currency"]
    }));
    Node::new("extract", "Extract", NodeKind::Llm(cfg))
}

#[tokio::test]
async fn extract_retries_a_schema_violation_once_with_the_message_in_the_conversation_and_counts_its_tokens()
 {
    let server = ModelServer::start(|n, _| {
        Reply::Ok(match n {
            0 => completion(&[r#"{"total": "12,50", "currency": "EUR"}"#], (80, 12)),
            _ => with_logprobs(
                &[(r#"{"total": 12.5, "currency": "EUR"}"#, 0.9, &[])],
                (110, 12),
            ),
        })
    })
    .await;
    let w = world_with(&server).await;
    let tokens = |direction: &str| {
        server::metrics::get()
            .llm_tokens
            .get_or_create(&server::metrics::Direction {
                direction: direction.into(),
            })
            .get()
    };
    let tokens_before = (tokens("in"), tokens("out"));
    let flow = def(
        vec![
            start(),
            extractor(),
            end("end", Some(".steps.extract.output.data")),
        ],
        vec![("start", "out", "extract"), ("extract", "out", "end")],
    );
    let run = w.start(flow, json!({"text": "Total: 12,50 EUR"})).await;
    let done = w.succeeded(&run).await;
    assert_eq!(done.output, Some(json!({"total": 12.5, "currency": "EUR"})));
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "retried once, in the same attempt");
    assert_eq!(seen[0].body["response_format"]["type"], "json_schema");
    let again = seen[1].body["messages"].as_array().unwrap();
    assert_eq!(again.len(), 4);
    assert_eq!(again[2]["role"], "assistant");
    let told = again[3]["content"].as_str().unwrap();
    assert!(
        told.contains("does not match the schema") && told.contains("/total"),
        "{told}"
    );
    // one attempt, with both requests' tokens and the cost
    let attempts =
        app::ops::runs::attempts(&w.db, run.as_ref(), app::domain::records::Paging::FIRST)
            .await
            .unwrap();
    let a = attempts.iter().find(|a| a.node_id == "extract").unwrap();
    let call = a.model_call.as_ref().unwrap();
    assert_eq!(
        (call.requests, call.tokens_in, call.tokens_out),
        (2, 190, 24)
    );
    assert_eq!(call.method.as_deref(), Some("token_logprobs"));
    let usage = w.run(&run).await.usage.unwrap();
    assert_eq!(
        (usage.requests, usage.tokens_in, usage.tokens_out),
        (2, 190, 24)
    );
    assert!((usage.cost.unwrap() - (0.190 + 0.048)).abs() < 1e-9);
    // the process's metrics count them (other tests may add theirs)
    assert!(tokens("in") >= tokens_before.0 + 190);
    assert!(tokens("out") >= tokens_before.1 + 24);
    // and its output's lineage names the model
    let l = a.lineage.as_ref().unwrap();
    assert_eq!(l.model.as_deref(), Some("test-model"));
    // its prompt reads the run input and no step
    assert!(l.reads.is_empty(), "{:?}", l.reads);
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let server = ModelServer::start(|n, _| match n {
        0 => Reply::Status(429, json!({"error": {"message": "slow down"}}), Some("30")),
        _ => Reply::Ok(with_logprobs(
            &[("other", 0.95, &[("refund", 0.01)])],
            (40, 1),
        )),
    })
    .await;
    let w = world_with(&server).await;
    let run = w
        .start(triage_flow(classify(None), false), json!({"text": "hi"}))
        .await;
    w.idle().await;
    let step = w.step(&run, "triage").await;
    assert_eq!(step.status, StepStatus::Ready, "{:?}", step.error);
    assert!(
        step.error
            .as_deref()
            .unwrap()
            .contains("429 Too Many Requests: slow down"),
        "{:?}",
        step.error
    );
    assert_eq!(step.not_before, T0 + 30_000);
    w.clock.advance(29_000);
    w.idle().await;
    assert_eq!(server.seen().len(), 1, "not before the server asked");
    w.clock.advance(1_000);
    assert_eq!(w.succeeded(&run).await.output, Some(json!("other")));
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn without_logprobs_the_confidence_is_agreement_across_samples() {
    // a server that gives no log-probabilities and ignores `n`
    let server = ModelServer::start(|n, _| {
        Reply::Ok(completion(
            &[["refund\nmoney", "billing", "refund"][n.min(2)]],
            (30, 2),
        ))
    })
    .await;
    let w = world_with(&server).await;
    let run = w
        .start(
            triage_flow(classify(Some(0.5)), false),
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(w.succeeded(&run).await.output, Some(json!("refund")));
    let seen = server.seen();
    assert_eq!(
        seen.len(),
        3,
        "one answer, then samples until there are three"
    );
    assert_eq!(seen[1].body["n"], 2);
    assert_eq!(seen[1].body["temperature"], 1.0);
    assert!(seen[1].body.get("logprobs").is_none());
    let triage = w.step(&run, "triage").await;
    let out = triage.output.unwrap();
    assert_eq!(out["method"], "sample_agreement");
    assert_eq!(out["samples"], 3);
    assert!((triage.confidence.unwrap() - 2.0 / 3.0).abs() < 1e-9);
}

#[tokio::test]
async fn a_step_naming_no_connection_fails_saying_what_to_set_up() {
    let server = ModelServer::start(|_, _| Reply::Raw("unused")).await;
    let w = world_with(&server).await;
    let mut node = classify(None);
    if let NodeKind::Llm(c) = &mut node.kind {
        c.connection = "gone".into();
    }
    let run = w.start(triage_flow(node, false), json!({})).await;
    w.idle().await;
    let r = w.run(&run).await;
    assert_eq!(r.run.status, RunStatus::Failed);
    let step = w.step(&run, "triage").await;
    assert_eq!(step.error_class.as_deref(), Some("business"));
    assert!(
        step.error
            .unwrap()
            .contains("no model connection named 'gone'")
    );
    assert!(server.seen().is_empty());
}
