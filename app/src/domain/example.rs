//! The example workflow seeded into an empty database, so a newcomer sees a
//! real process: an invoice arrives, large amounts wait for finance, the
//! ledger is called, and the run ends with the posting.

use super::graph::*;
use serde_json::json;

pub const EXAMPLE_NAME: &str = "Invoice approval";

/// Where the server's stand-in ledger (`--demo`) answers.
pub const DEMO_LEDGER_PATH: &str = "/demo/ledger/entries";

/// The example, its ledger step calling the stand-in ledger of a server on
/// 127.0.0.1:3000 (the address `make run` serves on).
pub fn invoice_approval() -> WorkflowDef {
    invoice_approval_at("http://127.0.0.1:3000")
}

/// The example with its ledger step calling the stand-in ledger of the
/// server at `base` (the address it listens on, e.g. `http://127.0.0.1:8080`).
///
/// The steps after the approval read the approved invoice, else (for small
/// amounts, when the approval was skipped) the extracted one: an amount the
/// approver corrected is the amount posted.
pub fn invoice_approval_at(base: &str) -> WorkflowDef {
    let mut ledger = Node::new(
        "post_ledger",
        "Post to ledger",
        NodeKind::Http {
            request: HttpRequest {
                method: "POST".into(),
                url: format!("{}{DEMO_LEDGER_PATH}", base.trim_end_matches('/')),
                headers: [("Content-Type".to_string(), "application/json".to_string())].into(),
                body: Some(
                    r#"{% set invoice = (steps.approve or steps.extract).output %}{"vendor": {{ invoice.vendor | tojson }}, "amount": {{ invoice.amount }}, "currency": {{ invoice.currency | tojson }}, "note": {{ (invoice.note or "") | tojson }}}"#
                        .into(),
                ),
            },
            response_schema: None,
        },
    )
    .at(1240.0, 220.0);
    ledger.timeout_ms = Some(10_000);

    WorkflowDef {
        nodes: vec![
            Node::new(
                "start",
                "Invoice received",
                NodeKind::Start {
                    input_schema: Some(json!({
                        "type": "object",
                        "required": ["vendor", "amount"],
                        "properties": {
                            "vendor": {"type": "string"},
                            "amount": {"type": "number"},
                            "currency": {"type": "string"}
                        }
                    })),
                },
            )
            .at(40.0, 220.0),
            Node::new(
                "extract",
                "Extract fields",
                NodeKind::Transform {
                    expression: "{vendor: .input.vendor, amount: .input.amount, currency: (.input.currency // \"EUR\")}".into(),
                },
            )
            .at(280.0, 220.0),
            Node::new(
                "route",
                "Amount check",
                NodeKind::Branch {
                    conditions: vec![BranchCondition {
                        label: "large".into(),
                        expression: ".steps.extract.output.amount > 1000".into(),
                    }],
                },
            )
            .at(520.0, 220.0),
            Node::new(
                "approve",
                "Finance approval",
                NodeKind::Approval(ApprovalConfig {
                    title: "Approve invoice from {{ steps.extract.output.vendor }}".into(),
                    instructions: "Check the amount of {{ steps.extract.output.amount }} {{ steps.extract.output.currency }} against the purchase order.".into(),
                    approvers: Approvers {
                        roles: vec!["approver".into()],
                        users: vec![],
                    },
                    required_approvals: 1,
                    allow_self_approval: false,
                    form: vec![FormField {
                        name: "note".into(),
                        label: "Note for the ledger".into(),
                        kind: FormFieldKind::Text,
                        required: false,
                    }],
                    deadline: None,
                }),
            )
            .at(760.0, 100.0),
            Node::new("merge", "Ready to post", NodeKind::Join {}).at(1000.0, 220.0),
            ledger,
            Node::new(
                "done",
                "Posted",
                NodeKind::End {
                    output: Some(
                        "(.steps.approve.output // .steps.extract.output) as $invoice | {posted: true, vendor: $invoice.vendor, amount: $invoice.amount, entry: .steps.post_ledger.output.body.entry_id}"
                            .into(),
                    ),
                },
            )
            .at(1480.0, 220.0),
            Node::new(
                "rejected",
                "Rejected",
                NodeKind::Fail {
                    message: "Finance rejected the invoice from {{ steps.extract.output.vendor }}".into(),
                },
            )
            .at(1000.0, 20.0),
        ],
        edges: vec![
            Edge::new("start", PORT_OUT, "extract"),
            Edge::new("extract", PORT_OUT, "route"),
            Edge::new("route", "large", "approve"),
            Edge::new("route", PORT_DEFAULT, "merge"),
            Edge::new("approve", PORT_OUT, "merge"),
            Edge::new("approve", PORT_REJECTED, "rejected"),
            Edge::new("merge", PORT_OUT, "post_ledger"),
            Edge::new("post_ledger", PORT_OUT, "done"),
        ],
        settings: Settings {
            confidence_threshold: Some(0.8),
            ..Settings::default()
        },
    }
}

/// Checks every line of an invoice: a For each whose body prices one line
/// (`.item`, `.index`); the run's output is the For each's results.
pub fn line_items() -> WorkflowDef {
    let t = |id: &str, name: &str, e: &str| {
        Node::new(
            id,
            name,
            NodeKind::Transform {
                expression: e.into(),
            },
        )
    };
    WorkflowDef {
        nodes: vec![
            Node::new("start", "Invoice", NodeKind::Start { input_schema: None }).at(40.0, 160.0),
            Node::new(
                "each_line",
                "Each line",
                NodeKind::ForEach(ForEachConfig::over(".input.lines")),
            )
            .at(260.0, 60.0),
            Node::new("line", "Line", NodeKind::Start { input_schema: None })
                .inside("each_line")
                .at(290.0, 140.0),
            t(
                "price",
                "Price the line",
                "{sku: .item.sku, index: .index, total: (.item.qty * .item.price)}",
            )
            .inside("each_line")
            .at(470.0, 140.0),
            Node::new(
                "priced",
                "Priced",
                NodeKind::End {
                    output: Some(".steps.price.output".into()),
                },
            )
            .inside("each_line")
            .at(650.0, 140.0),
            Node::new(
                "end",
                "Done",
                NodeKind::End {
                    output: Some(".steps.each_line.output".into()),
                },
            )
            .at(900.0, 160.0),
        ],
        edges: vec![
            Edge::new("start", PORT_OUT, "each_line"),
            Edge::new("line", PORT_OUT, "price"),
            Edge::new("price", PORT_OUT, "priced"),
            Edge::new("each_line", PORT_OUT, "end"),
        ],
        settings: Settings::default(),
    }
}
