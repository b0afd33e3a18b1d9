use super::*;
use crate::domain::graph::LlmLabel;
use crate::domain::llm::wire::{parse_completion, request_body};

fn triage() -> LlmConfig {
    let mut cfg = LlmConfig::new("local", LlmMode::Classify, "{{ input.body }}");
    cfg.labels = ["refund", "billing", "other"]
        .iter()
        .map(|n| LlmLabel {
            name: n.to_string(),
            description: format!("about {n}"),
        })
        .collect();
    cfg
}

fn tok(token: &str, p: f64, top: &[(&str, f64)]) -> TokenLogprob {
    TokenLogprob {
        token: token.into(),
        logprob: p.ln(),
        top: top.iter().map(|(t, p)| (t.to_string(), p.ln())).collect(),
    }
}

fn said(cfg: &LlmConfig, content: &str, tokens: Option<Vec<TokenLogprob>>) -> Answer {
    read(cfg, content, tokens).unwrap()
}

#[test]
fn classify_tells_the_model_its_labels_and_reads_label_and_reason() {
    let cfg = triage();
    let m = messages(&cfg, "You triage tickets.", "Where is my money?");
    assert_eq!(m[0].role, "system");
    assert!(m[0].content.starts_with("You triage tickets.\n\nClassify"));
    assert!(m[0].content.contains("- refund: about refund"));
    assert_eq!(m[1], Message::new("user", "Where is my money?"));
    let a = said(&cfg, " \"Refund\".\nThe customer wants money back.", None);
    assert_eq!(a.value, json!("refund"));
    assert_eq!(a.reason.as_deref(), Some("The customer wants money back."));
    let e = read(&cfg, "Probably a refund", None).unwrap_err();
    assert!(
        e.contains("not one of the labels (refund, billing, other)"),
        "{e}"
    );
}

#[test]
fn classify_measured_by_label_logprobs_below_the_threshold_takes_uncertain_only_if_connected() {
    let cfg = triage();
    let tokens = vec![tok(
        "refund",
        0.62,
        &[("refund", 0.62), ("billing", 0.30), ("other", 0.08)],
    )];
    let a = said(&cfg, "refund\nmoney back", Some(tokens));
    let c = conclude(&cfg, "m1", std::slice::from_ref(&a), Some(0.7), true).unwrap();
    assert!((c.confidence.unwrap() - 0.62).abs() < 1e-9);
    assert_eq!(c.method, Some(Method::LabelLogprobs));
    assert_eq!(c.port, PORT_UNCERTAIN);
    assert_eq!(c.output["method"], "label_logprobs");
    assert_eq!(c.output["label"], "refund");
    assert_eq!(c.output["model"], "m1");
    assert!((c.output["scores"]["billing"].as_f64().unwrap() - 0.30).abs() < 1e-9);
    let gate = conclude(&cfg, "m1", &[a], Some(0.7), false).unwrap();
    assert_eq!(gate.port, "refund", "the confidence gate applies instead");
}

#[test]
fn without_logprobs_auto_asks_for_samples_and_measures_agreement() {
    let cfg = triage();
    let first = said(&cfg, "refund", None);
    assert_eq!(
        conclude(&cfg, "m", std::slice::from_ref(&first), None, false),
        Err(Need::Samples(2))
    );
    let answers = [
        first,
        said(&cfg, "billing", None),
        said(&cfg, "billing", None),
    ];
    let c = conclude(&cfg, "m", &answers, None, false).unwrap();
    assert_eq!(c.output["label"], "billing", "the majority answer is taken");
    assert_eq!(c.port, "billing");
    assert_eq!(c.method, Some(Method::SampleAgreement));
    assert!((c.confidence.unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(c.output["samples"], 3);
}

#[test]
fn a_required_method_the_server_cannot_serve_is_said_and_none_means_no_confidence() {
    let mut cfg = triage();
    cfg.confidence = ConfidenceMethod::Logprobs;
    let a = said(&cfg, "refund", None);
    let Err(Need::Unmeasurable(why)) = conclude(&cfg, "m", std::slice::from_ref(&a), None, false)
    else {
        panic!("expected unmeasurable")
    };
    assert!(why.contains("agreement"), "{why}");
    cfg.confidence = ConfidenceMethod::None;
    let c = conclude(&cfg, "m", &[a], Some(0.9), true).unwrap();
    assert_eq!(
        (c.confidence, c.method, c.port.as_str()),
        (None, None, "refund")
    );
}

#[test]
fn extract_asks_for_the_schema_and_reads_fenced_json() {
    let mut cfg = LlmConfig::new("local", LlmMode::Extract, "{{ input.text }}");
    cfg.schema = Some(json!({"type": "object", "required": ["total"]}));
    let m = messages(&cfg, "", "Invoice total 12 EUR");
    assert!(
        m[0].content
            .contains(r#"{"required":["total"],"type":"object"}"#)
            || m[0].content.contains("\"required\"")
    );
    let body = request_body(&cfg, "m", &m, 1, true);
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["required"][0],
        "total"
    );
    assert_eq!(body["logprobs"], true);
    assert!(body.get("top_logprobs").is_none());
    let a = said(
        &cfg,
        "```json\n{\"total\": 12}\n```",
        Some(vec![tok("{", 0.9, &[]), tok("}", 0.4, &[])]),
    );
    assert_eq!(a.value, json!({"total": 12}));
    let c = conclude(&cfg, "m", &[a], None, false).unwrap();
    assert_eq!(c.output["data"], json!({"total": 12}));
    assert_eq!(c.method, Some(Method::TokenLogprobs));
    assert!((c.confidence.unwrap() - 0.6).abs() < 1e-9);
    assert!(
        read(&cfg, "[1]", None)
            .unwrap_err()
            .contains("not a JSON object")
    );
    assert!(
        read(&cfg, "total: 12", None)
            .unwrap_err()
            .contains("not JSON")
    );
}

#[test]
fn generate_text_agrees_by_words_and_samples_are_never_drawn_at_temperature_zero() {
    let mut cfg = LlmConfig::new("local", LlmMode::Generate, "Write a reply");
    cfg.confidence = ConfidenceMethod::Agreement;
    cfg.samples = Some(2);
    let body = request_body(&cfg, "m", &[], 2, false);
    assert_eq!(
        (body["n"].clone(), body["temperature"].clone()),
        (json!(2), json!(1.0))
    );
    let answers = [
        said(&cfg, "We refund you today.", None),
        said(&cfg, "We refund you today", None),
    ];
    let c = conclude(&cfg, "m", &answers, None, false).unwrap();
    assert_eq!(c.output["text"], "We refund you today.");
    assert_eq!(c.confidence, Some(1.0));
    assert_eq!(c.port, PORT_OUT);
}

#[test]
fn completions_are_read_with_their_usage_and_logprobs_and_bad_ones_are_said() {
    let body = json!({
        "choices": [{"message": {"role": "assistant", "content": "refund"},
                     "logprobs": {"content": [{"token": "refund", "logprob": -0.1,
                        "top_logprobs": [{"token": "refund", "logprob": -0.1}, {"token": "x", "logprob": "bad"}]}]}}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 3}
    });
    let c = parse_completion(&body).unwrap();
    assert_eq!((c.tokens_in, c.tokens_out), (40, 3));
    let tokens = c.choices[0].tokens.as_ref().unwrap();
    assert_eq!(tokens[0].top.len(), 1, "a malformed alternative is dropped");
    assert!(
        parse_completion(&json!({"error": "x"}))
            .unwrap_err()
            .contains("no 'choices'")
    );
    assert!(
        parse_completion(&json!({"choices": []}))
            .unwrap_err()
            .contains("empty")
    );
    let refused = json!({"choices": [{"message": {"content": null, "refusal": "no"}}]});
    assert!(
        parse_completion(&refused)
            .unwrap_err()
            .contains("refused: no")
    );
}

#[test]
fn an_edited_label_decides_the_port() {
    let cfg = triage();
    assert_eq!(
        cfg.port_of(&json!({"label": "billing"})).as_deref(),
        Some("billing")
    );
    assert_eq!(cfg.port_of(&json!({"label": "nonsense"})), None);
    assert_eq!(cfg.port_of(&json!("billing")), None);
    assert_eq!(cfg.ports(), ["refund", "billing", "other", "uncertain"]);
}
