//! The seeded example workflow does what it shows (issue 13): an amount the
//! approver corrects is the amount the ledger receives, a small invoice
//! (no approval) posts the extracted amount, and the decision's audit event
//! records what the approver changed and answered.

use crate::approvals::{approve, item, person};
use crate::common::receiver::Receiver;
use crate::common::world::*;
use app::domain::auth::Role;
use app::domain::graph::*;
use app::ops::approvals::{DecisionInput, decide};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The example with its ledger step calling `ledger` (which echoes the body).
fn example(ledger: &str) -> WorkflowDef {
    let mut def = app::domain::example::invoice_approval_at("http://unused.invalid");
    let n = def
        .nodes
        .iter_mut()
        .find(|n| n.id == "post_ledger")
        .unwrap();
    let NodeKind::Http { request, .. } = &mut n.kind else {
        panic!("the ledger step is an Http step");
    };
    request.url = ledger.to_string();
    def
}

/// What the ledger received, as the run's ledger step recorded its echo.
async fn posted(w: &World, run: &str) -> Value {
    let out = w.step(run, "post_ledger").await.output.unwrap();
    serde_json::from_str(out["body"]["echo"].as_str().unwrap()).unwrap()
}

fn sha(v: &Value) -> String {
    hex::encode(Sha256::digest(v.to_string().as_bytes()))
}

#[tokio::test]
async fn the_amount_the_approver_corrects_is_the_amount_the_ledger_receives() {
    let w = World::new().await;
    let ledger = Receiver::scripted(vec![]).await;
    let input = json!({"vendor": "ACME", "amount": 5300});
    let run = w.start(example(&ledger.url), input).await;
    w.idle().await;
    let i = item(&w, &run, "approve").await;
    let proposed = json!({"vendor": "ACME", "amount": 5300, "currency": "EUR"});
    assert_eq!(i.proposed, proposed);
    let edited = json!({"vendor": "ACME", "amount": 5200, "currency": "EUR"});
    let mut answers = serde_json::Map::new();
    answers.insert("note".into(), json!("PO said 5200"));
    let decision = DecisionInput {
        output: Some(edited),
        answers,
        ..approve("amount corrected")
    };
    let ann = person("ann", Role::Approver);
    decide(&w.db, &ann, &i.id, decision, w.clock.now_ms())
        .await
        .unwrap();
    let r = w.succeeded(&run).await;
    assert_eq!(
        posted(&w, &run).await,
        json!({"vendor": "ACME", "amount": 5200, "currency": "EUR", "note": "PO said 5200"})
    );
    // the run page's facts: named steps, and an approval tried once (its
    // wake-up after the decision is not a second attempt)
    let detail = w.run(&run).await;
    assert_eq!(detail.number, 1);
    assert_eq!(detail.name_of("approve"), "Finance approval");
    let approve_step = w.step(&run, "approve").await;
    assert_eq!(approve_step.attempt, 2, "the engine counts the wake-up");
    assert_eq!(
        detail.attempts_of(&approve_step),
        1,
        "people see one attempt"
    );
    let out = r.output.unwrap();
    assert_eq!(out["amount"], json!(5200), "the run's output: {out}");
    assert_eq!(out["posted"], json!(true));

    // the audit event: before and after of each change, the answers, and
    // digests of the proposed and final values stored on the item
    let ev = w.event("approval.decided", Some(&run)).await;
    assert_eq!(
        ev.details["changed"],
        json!([{"path": ".amount", "from": 5300, "to": 5200}])
    );
    assert_eq!(ev.details["answers"], json!({"note": "PO said 5200"}));
    let decided = item(&w, &run, "approve").await;
    assert_eq!(ev.details["proposed_sha256"], json!(sha(&decided.proposed)));
    assert_eq!(
        ev.details["final_sha256"],
        json!(sha(decided.final_output.as_ref().unwrap()))
    );
}

#[tokio::test]
async fn a_small_invoice_skips_the_approval_and_posts_the_extracted_amount() {
    let w = World::new().await;
    let ledger = Receiver::scripted(vec![]).await;
    let run = w
        .start(
            example(&ledger.url),
            json!({"vendor": "Tiny Ltd", "amount": 40}),
        )
        .await;
    let r = w.succeeded(&run).await;
    assert_eq!(
        posted(&w, &run).await,
        json!({"vendor": "Tiny Ltd", "amount": 40, "currency": "EUR", "note": ""})
    );
    assert_eq!(r.output.unwrap()["amount"], json!(40));
}
