use super::judge::{Difference, diff, judge, summary};
use super::report::{gate, totals};
use super::*;
use crate::domain::records::StepRecord;
use serde_json::json;

fn step(id: &str, status: &str, port: Option<&str>, output: Value, finished: i64) -> StepRecord {
    serde_json::from_value(json!({
        "node_id": id, "status": status, "attempt": 1, "not_before": 0, "port": port,
        "output": output, "error_class": null, "error": null, "confidence": 0.9,
        "cum_confidence": 0.9, "started_at": finished - 1, "finished_at": finished,
    }))
    .unwrap()
}

fn triage_run(label: &str) -> Value {
    summary(
        "succeeded",
        Some(&json!({"queue": label})),
        &[
            step("start", "succeeded", Some("out"), json!({}), 1),
            step(
                "triage",
                "succeeded",
                Some(label),
                json!({"label": label}),
                2,
            ),
            step("end", "succeeded", Some("out"), json!({"queue": label}), 3),
            step("other", "skipped", None, Value::Null, 0),
        ],
        &[("review".into(), "confidence".into())],
    )
}

fn case(name: &str) -> CaseSpec {
    CaseSpec {
        name: name.into(),
        ..Default::default()
    }
}

#[test]
fn the_summary_lists_steps_the_route_taken_and_who_was_asked() {
    let s = triage_run("refund");
    assert_eq!(s["route"], json!(["start", "triage", "end"]));
    assert_eq!(s["steps"]["triage"]["port"], "refund");
    assert_eq!(s["steps"]["other"]["status"], "skipped");
    assert_eq!(
        s["asked"],
        json!([{"step": "review", "reason": "confidence"}])
    );
    assert_eq!(s["escalated"], true);
}

#[test]
fn a_diff_names_each_path_that_differs_and_numbers_compare_by_value() {
    let expected =
        json!({"amount": 12, "lines": [{"sku": "A"}, {"sku": "B"}], "note": "x", "odd key": 1});
    let actual = json!({"amount": 12.0, "lines": [{"sku": "A"}, {"sku": "C"}, {"sku": "D"}], "extra": true, "odd key": 2});
    let d = diff(&expected, &actual);
    let paths: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            ".lines[1].sku",
            ".lines[2]",
            ".note",
            ".\"odd key\"",
            ".extra"
        ]
    );
    assert_eq!(
        d[2],
        Difference {
            path: ".note".into(),
            expected: Some(json!("x")),
            actual: None
        }
    );
    assert!(diff(&json!([1, 2]), &json!([1.0, 2])).is_empty());
    assert_eq!(diff(&json!(1), &json!("1"))[0].path, ".");
}

#[test]
fn a_huge_difference_is_listed_up_to_the_bound() {
    let expected = Value::Array((0..1_000).map(|i| json!(i)).collect());
    let actual = Value::Array((0..1_000).map(|i| json!(-i - 1)).collect());
    assert_eq!(diff(&expected, &actual).len(), judge::MAX_DIFFERENCES);
}

#[test]
fn a_case_passes_when_output_routes_and_assertions_hold_and_says_what_failed_otherwise() {
    let mut spec = case("refund ticket");
    spec.expect_output = Some(json!({"queue": "refund"}));
    spec.expect_routes.insert("triage".into(), "refund".into());
    spec.assertions.push(Assertion {
        name: "a person saw it".into(),
        jq: ".escalated".into(),
    });
    let ok = judge(
        "case_1",
        &spec,
        "run_1",
        &triage_run("refund"),
        &[Ok(json!(true))],
    );
    assert!(ok.passed, "{ok:?}");
    assert!(ok.asked);
    let bad = judge(
        "case_1",
        &spec,
        "run_2",
        &triage_run("billing"),
        &[Err("the expression failed: boom".into())],
    );
    assert!(!bad.passed);
    let what: Vec<&str> = bad.failures.iter().map(|f| f.what.as_str()).collect();
    assert_eq!(what.len(), 3, "{what:?}");
    assert!(what[0].starts_with("the output differs"));
    assert_eq!(bad.failures[0].diff[0].path, ".queue");
    assert_eq!(what[1], "step 'triage' took 'billing', expected 'refund'");
    assert!(what[2].contains("'a person saw it' could not be evaluated: the expression failed"));
    assert_eq!(bad.routes[0].actual.as_deref(), Some("billing"));
    // an assertion that gives anything but true fails
    let not_true = judge("c", &spec, "r", &triage_run("refund"), &[Ok(json!("yes"))]);
    assert!(not_true.failures[0].what.contains("gave \"yes\", not true"));
}

#[test]
fn a_case_that_expects_nothing_expects_the_run_to_succeed() {
    let failed = summary("failed", None, &[], &[]);
    let r = judge("c", &case("smoke"), "r", &failed, &[]);
    assert!(!r.passed);
    assert!(r.failures[0].what.contains("the run failed"));
    let ok = summary("succeeded", None, &[], &[]);
    assert!(judge("c", &case("smoke"), "r", &ok, &[]).passed);
}

#[test]
fn totals_give_pass_rate_escalation_rate_and_accuracy_per_routing_step() {
    let mut spec = case("x");
    spec.expect_routes.insert("triage".into(), "refund".into());
    let results: Vec<_> = ["refund", "refund", "billing", "refund"]
        .iter()
        .map(|label| {
            let mut s = triage_run(label);
            if *label == "billing" {
                s["asked"] = json!([]);
            }
            judge("c", &spec, "r", &s, &[])
        })
        .collect();
    let t = totals(&results);
    assert_eq!((t.total, t.passed), (4, 3));
    assert_eq!(t.pass_pct, 75.0);
    assert_eq!(t.escalation_pct, 75.0);
    assert_eq!(t.steps.len(), 1);
    assert_eq!((t.steps[0].correct, t.steps[0].total), (3, 4));
    assert_eq!(t.steps[0].accuracy, 0.75);
    assert!(gate(&results, 75.0).is_ok());
    let refused = gate(&results, 100.0).unwrap_err();
    assert!(refused.contains("passed 3 of 4 cases (75 %)"), "{refused}");
    assert!(refused.contains("failed: 'x'"), "{refused}");
    assert_eq!(totals(&[]).pass_pct, 100.0);
}

#[test]
fn a_case_is_checked_field_by_field() {
    assert!(check(&case("ok")).is_ok());
    assert!(check(&case("  ")).unwrap_err().starts_with("name:"));
    assert!(check(&case(&"n".repeat(MAX_NAME + 1))).is_err());
    let mut bad_jq = case("jq");
    bad_jq.assertions.push(Assertion {
        name: "broken".into(),
        jq: ".a ==".into(),
    });
    assert!(check(&bad_jq).unwrap_err().starts_with("assertions[0].jq:"));
    let mut many = case("many");
    many.assertions = (0..=MAX_ASSERTIONS)
        .map(|i| Assertion {
            name: format!("a{i}"),
            jq: "true".into(),
        })
        .collect();
    assert!(check(&many).is_err());
    let mut conf = case("conf");
    conf.recorded.insert(
        "llm".into(),
        Recorded {
            output: json!({}),
            confidence: Some(f64::NAN),
            port: None,
        },
    );
    assert!(
        check(&conf)
            .unwrap_err()
            .contains("recorded.llm.confidence")
    );
    // unknown fields are refused by name
    let e = serde_json::from_value::<CaseSpec>(json!({"name": "x", "expected": 1})).unwrap_err();
    assert!(e.to_string().contains("unknown field `expected`"), "{e}");
    let d: CaseDecision =
        serde_json::from_value(json!({"decision": "edit", "output": {"a": 1}})).unwrap();
    assert_eq!(
        d,
        CaseDecision::Edit {
            output: json!({"a": 1})
        }
    );
}
