//! The second example: support tickets triaged by a model. A ticket (the
//! shape a webhook would deliver) is classified with a measured confidence;
//! a doubtful label waits for a person (the workflow's threshold); refunds
//! are issued through an Http call with an idempotency key, a reply is
//! drafted by the model, and a person approves it before it is sent.

use super::graph::*;
use serde_json::json;

pub const TRIAGE_NAME: &str = "Support ticket triage";
/// The model connection the example uses: with `--demo`, the server's
/// stand-in model; point it at a real server in Settings.
pub const DEMO_CONNECTION: &str = "demo";
/// Where the stand-in model (`--demo`) answers, below the server's address.
pub const DEMO_MODEL_PATH: &str = "/demo/v1";

fn label(name: &str, description: &str) -> LlmLabel {
    LlmLabel {
        name: name.into(),
        description: description.into(),
    }
}

/// The example, its refund step calling the stand-in ledger of the server
/// at `base`.
pub fn support_triage_at(base: &str) -> WorkflowDef {
    let mut classify = LlmConfig::new(
        DEMO_CONNECTION,
        LlmMode::Classify,
        "Subject: {{ input.subject }}\n\n{{ input.body }}",
    );
    classify.system = "You triage the support tickets of an online shop.".into();
    classify.labels = vec![
        label("refund", "the customer wants their money back for an order"),
        label(
            "billing",
            "a question about an invoice, a payment or a charge",
        ),
        label("other", "anything else"),
    ];
    classify.temperature = Some(0.0);
    let mut draft = LlmConfig::new(
        DEMO_CONNECTION,
        LlmMode::Generate,
        "A customer asked for a refund of order {{ input.order_id }}. The refund is issued (reference {{ steps.refund.output.body.entry_id }}).\nTheir message:\n{{ input.body }}\n\nWrite a short, friendly reply.",
    );
    draft.system = "You write replies for the support team of an online shop.".into();
    let mut refund = Node::new(
        "refund",
        "Issue refund",
        NodeKind::Http {
            request: HttpRequest {
                method: "POST".into(),
                url: format!("{}{}", base.trim_end_matches('/'), super::example::DEMO_LEDGER_PATH),
                headers: [("Content-Type".to_string(), "application/json".to_string())].into(),
                body: Some(
                    r#"{"refund_for": {{ input.order_id | tojson }}, "customer": {{ input.customer_email | tojson }}}"#
                        .into(),
                ),
            },
            response_schema: None,
        },
    )
    .at(760.0, 60.0);
    refund.timeout_ms = Some(10_000);
    WorkflowDef {
        nodes: vec![
            Node::new(
                "start",
                "Ticket received",
                NodeKind::Start {
                    input_schema: Some(json!({
                        "type": "object",
                        "required": ["subject", "body"],
                        "properties": {
                            "subject": {"type": "string"},
                            "body": {"type": "string"},
                            "customer_email": {"type": "string"},
                            "order_id": {"type": "string"}
                        }
                    })),
                },
            )
            .at(40.0, 220.0),
            Node::new("triage", "Triage ticket", NodeKind::Llm(classify)).at(320.0, 220.0),
            refund,
            Node::new("draft", "Draft reply", NodeKind::Llm(draft)).at(1040.0, 60.0),
            Node::new(
                "review",
                "Approve reply",
                NodeKind::Approval(ApprovalConfig {
                    title: "Send this reply to {{ input.customer_email }}?".into(),
                    instructions: "The model drafted this reply to a refund request. Edit the text if needed, then approve to send it.".into(),
                    approvers: Approvers {
                        roles: vec!["approver".into()],
                        users: vec![],
                    },
                    required_approvals: 1,
                    allow_self_approval: false,
                    form: vec![],
                    deadline: None,
                }),
            )
            .at(1320.0, 60.0),
            Node::new(
                "sent",
                "Reply sent",
                NodeKind::End {
                    output: Some(
                        "{team: \"refunds\", refund: .steps.refund.output.body.entry_id, reply: .steps.review.output.text}".into(),
                    ),
                },
            )
            .at(1600.0, 60.0),
            Node::new(
                "to_billing",
                "To billing",
                NodeKind::End {
                    output: Some("{team: \"billing\"}".into()),
                },
            )
            .at(760.0, 240.0),
            Node::new(
                "to_support",
                "To support",
                NodeKind::End {
                    output: Some("{team: \"support\"}".into()),
                },
            )
            .at(760.0, 400.0),
            Node::new(
                "not_sent",
                "Reply rejected",
                NodeKind::Fail {
                    message: "The drafted reply was rejected".into(),
                },
            )
            .at(1600.0, 200.0),
        ],
        edges: vec![
            Edge::new("start", PORT_OUT, "triage"),
            Edge::new("triage", "refund", "refund"),
            Edge::new("triage", "billing", "to_billing"),
            Edge::new("triage", "other", "to_support"),
            Edge::new("refund", PORT_OUT, "draft"),
            Edge::new("draft", PORT_OUT, "review"),
            Edge::new("review", PORT_OUT, "sent"),
            Edge::new("review", PORT_REJECTED, "not_sent"),
        ],
        settings: Settings {
            confidence_threshold: Some(0.75),
            ..Settings::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_triage_example_has_no_problems() {
        let def = support_triage_at("http://127.0.0.1:3000");
        assert_eq!(crate::domain::validate(&def), vec![]);
    }
}
