//! The proof on the Support ticket triage example: a golden set of
//! 20 cases (refunds whose reply a person approves or edits, billing
//! questions, other tickets, some labelled doubtfully enough that a person
//! is asked) passes on the example; a version whose billing route is
//! broken fails the 3 billing cases by name and cannot be published; an
//! admin's override is audited.

use super::golden::run_and_report;
use crate::common::world::{T0, World};
use app::domain::audit::Actor;
use app::domain::golden::{CaseDecision, CaseSpec, Recorded};
use app::ops::golden::{self, GateVerdict};
use serde_json::{Value, json};

fn recorded(output: Value, confidence: Option<f64>, port: Option<&str>) -> Recorded {
    Recorded {
        output,
        confidence,
        port: port.map(String::from),
    }
}

/// Case `i` of kind `label`: its triage answer recorded (doubtful every
/// fourth, so a person is asked and approves the label), and for a refund
/// the ledger's answer, the drafted reply and how the reviewer decided.
fn case(i: usize, label: &str) -> CaseSpec {
    let mut c = CaseSpec {
        name: format!("{label} {i}"),
        input: json!({"subject": format!("ticket {i}"), "body": format!("about {label}"),
                      "customer_email": format!("c{i}@example.com"), "order_id": format!("A-{i}")}),
        ..Default::default()
    };
    let doubtful = i.is_multiple_of(4);
    c.recorded.insert(
        "triage".into(),
        recorded(
            json!({"label": label}),
            Some(if doubtful { 0.6 } else { 0.93 }),
            Some(label),
        ),
    );
    if doubtful {
        c.decisions.insert("triage".into(), CaseDecision::Approve);
    }
    c.expect_routes.insert("triage".into(), label.into());
    c.expect_output = Some(match label {
        "refund" => {
            c.recorded.insert(
                "refund".into(),
                recorded(
                    json!({"status": 200, "body": {"entry_id": format!("E-{i}")}}),
                    None,
                    None,
                ),
            );
            c.recorded.insert(
                "draft".into(),
                recorded(
                    json!({"text": format!("Refunded order A-{i}.")}),
                    None,
                    None,
                ),
            );
            let reply = if i.is_multiple_of(2) {
                c.decisions.insert("review".into(), CaseDecision::Approve);
                format!("Refunded order A-{i}.")
            } else {
                let edited = format!("Your order A-{i} is refunded. Sorry!");
                c.decisions.insert(
                    "review".into(),
                    CaseDecision::Edit {
                        output: json!({ "text": edited }),
                    },
                );
                edited
            };
            json!({"team": "refunds", "refund": format!("E-{i}"), "reply": reply})
        }
        "billing" => json!({"team": "billing"}),
        _ => json!({"team": "support"}),
    });
    c
}

#[tokio::test]
async fn twenty_cases_pass_on_the_triage_example_and_a_broken_billing_route_fails_three_named_cases_and_cannot_be_published()
 {
    let w = World::new().await;
    let actor = Actor("user:tester".into());
    let def = app::domain::example_triage::support_triage_at("http://127.0.0.1:9");
    let wf = app::ops::workflows::create(&w.db, &actor, "Triage", &def, false, T0)
        .await
        .unwrap()
        .workflow_id;
    let labels = (0..20).map(|i| match i {
        0..=7 => "refund",
        8..=10 => "billing",
        _ => "other",
    });
    for (i, label) in labels.enumerate() {
        golden::create_case(&w.db, &actor, &wf, case(i, label), None, T0)
            .await
            .unwrap();
    }
    golden::set_publish_gate(&w.db, &actor, &wf, Some(100.0), T0)
        .await
        .unwrap();
    let good = run_and_report(&w, &wf, 1).await;
    assert_eq!(
        (good.totals.total, good.totals.passed),
        (20, 20),
        "{good:#?}"
    );
    let triage = good
        .totals
        .steps
        .iter()
        .find(|s| s.step == "triage")
        .unwrap();
    assert_eq!((triage.correct, triage.total), (20, 20));
    // asked: every refund's reviewer, and the five doubtful labels of the others
    assert!(
        (good.totals.escalation_pct - 55.0).abs() < 1e-9,
        "{}",
        good.totals.escalation_pct
    );

    // version 2 sends billing questions to support (its billing end gone)
    let mut broken = def.clone();
    for e in &mut broken.edges {
        if e.from == "triage" && e.port == "billing" {
            e.to = "to_support".into();
        }
    }
    broken.nodes.retain(|n| n.id != "to_billing");
    let v2 = app::ops::workflows::save_version(&w.db, &actor, &wf, &broken, false, T0)
        .await
        .unwrap();
    let bad = run_and_report(&w, &wf, v2.version).await;
    let failed: Vec<&str> = bad
        .cases
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        failed,
        vec!["billing 8", "billing 9", "billing 10"],
        "{bad:#?}"
    );
    let diff = &bad
        .cases
        .iter()
        .find(|c| c.name == "billing 9")
        .unwrap()
        .failures[0];
    assert!(diff.what.contains("output differs"), "{diff:?}");
    assert_eq!(bad.published.as_ref().map(|p| p.totals.pass_pct), None);
    match golden::gate_check(&w.db, Some(&w.engine), &wf, v2.version, T0)
        .await
        .unwrap()
    {
        GateVerdict::Short(why) => {
            for name in &failed {
                assert!(why.contains(name), "{why}");
            }
        }
        other => panic!("{other:?}"),
    }
    let refused = app::ops::workflows::publish(
        &w.db,
        &actor,
        &wf,
        v2.version,
        app::ops::workflows::Gate::Check(Some(&w.engine)),
        T0,
    )
    .await
    .unwrap_err();
    assert!(
        refused.message.contains("cannot be published"),
        "{}",
        refused.message
    );
    // an admin publishes it anyway: the audit event says so and why
    app::ops::workflows::publish(
        &w.db,
        &Actor("user:boss".into()),
        &wf,
        v2.version,
        app::ops::workflows::Gate::Override(Some(&w.engine)),
        T0,
    )
    .await
    .unwrap();
    let event = w.event("workflow.published", None).await;
    assert_eq!(event.actor, "user:boss");
    let overridden = event.details["golden_set"]["overridden"]
        .as_str()
        .unwrap_or_default();
    assert!(overridden.contains("billing 9"), "{}", event.details);
}
