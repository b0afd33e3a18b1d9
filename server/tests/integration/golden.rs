//! Golden sets through the use cases and the engine: cases answered from
//! their recordings (no call goes out), people's decisions taken from the
//! case, verdicts with what failed, and a broken version caught.

use crate::common::world::{T0, World};
use app::domain::audit::Actor;
use app::domain::golden::{Assertion, CaseDecision, CaseSpec, Recorded};
use app::ops::golden;
use serde_json::{Value, json};

/// Start → Ledger (Http, never reachable) → Route: `big` over `limit` goes
/// to a person's Check, else straight to Small.
fn ledger_flow(limit: i64) -> app::domain::graph::WorkflowDef {
    serde_json::from_value(json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ledger", "name": "Ledger", "type": "http", "method": "GET",
             "url": "http://127.0.0.1:9/never"},
            {"id": "route", "name": "Route", "type": "branch",
             "conditions": [{"label": "big", "expression": format!(".steps.ledger.output.body.amount > {limit}")}]},
            {"id": "check", "name": "Check", "type": "approval", "title": "Check",
             "approvers": {"roles": ["approver"]}},
            {"id": "big", "name": "Big", "type": "end", "output": "{size: \"big\", checked: .steps.check.output}"},
            {"id": "small", "name": "Small", "type": "end", "output": "{size: \"small\"}"}
        ],
        "edges": [
            {"from": "start", "to": "ledger"}, {"from": "ledger", "to": "route"},
            {"from": "route", "port": "big", "to": "check"},
            {"from": "route", "port": "default", "to": "small"},
            {"from": "check", "to": "big"}
        ]
    }))
    .unwrap()
}

fn case(
    name: &str,
    amount: i64,
    route: &str,
    output: Value,
    decision: Option<CaseDecision>,
) -> CaseSpec {
    let mut c = CaseSpec {
        name: name.into(),
        input: json!({"invoice": name}),
        expect_output: Some(output),
        ..Default::default()
    };
    c.expect_routes.insert("route".into(), route.into());
    c.recorded.insert(
        "ledger".into(),
        Recorded {
            output: json!({"status": 200, "body": {"amount": amount}}),
            confidence: None,
            port: None,
        },
    );
    if let Some(d) = decision {
        c.decisions.insert("check".into(), d);
    }
    c
}

/// A new workflow of `ledger_flow(limit)` (version 1).
async fn invoices(w: &World, actor: &Actor, limit: i64) -> String {
    let name = format!("Invoices over {limit}");
    app::ops::workflows::create(&w.db, actor, &name, &ledger_flow(limit), false, T0)
        .await
        .unwrap()
        .workflow_id
}

pub(crate) async fn run_and_report(w: &World, wf: &str, version: i64) -> golden::SuiteReport {
    let actor = Actor("user:tester".into());
    let started = golden::run_suite(&w.db, &actor, wf, version, None, T0)
        .await
        .unwrap();
    w.idle().await;
    let report = golden::report(&w.db, &w.engine, &started.suite_id, T0)
        .await
        .unwrap();
    assert!(report.finished, "{report:?}");
    report
}

#[tokio::test]
async fn a_golden_set_passes_on_its_version_a_broken_branch_fails_the_named_cases_and_cannot_be_published()
 {
    let w = World::new().await;
    let actor = Actor("user:tester".into());
    let wf = invoices(&w, &actor, 100).await;
    let mut approved = case(
        "big, approved",
        150,
        "big",
        json!({"size": "big", "checked": {"status": 200, "body": {"amount": 150}}}),
        Some(CaseDecision::Approve),
    );
    approved.assertions.push(Assertion {
        name: "a person was asked".into(),
        jq: ".asked | map(.step) == [\"check\"]".into(),
    });
    let cases = [
        case("small", 50, "default", json!({"size": "small"}), None),
        approved,
        case(
            "big, edited",
            500,
            "big",
            json!({"size": "big", "checked": {"fixed": true}}),
            Some(CaseDecision::Edit {
                output: json!({"fixed": true}),
            }),
        ),
    ];
    for c in cases {
        golden::create_case(&w.db, &actor, &wf, c, None, T0)
            .await
            .unwrap();
    }
    let good = run_and_report(&w, &wf, 1).await;
    assert_eq!((good.totals.total, good.totals.passed), (3, 3), "{good:#?}");
    assert_eq!(good.totals.pass_pct, 100.0);
    assert!((good.totals.escalation_pct - 200.0 / 3.0).abs() < 1e-9);
    assert_eq!(good.totals.steps[0].step, "route");
    assert_eq!(good.totals.steps[0].accuracy, 1.0);
    // nothing went out: the Http step answered from the recording
    for c in &good.cases {
        let run = app::ops::runs::get(&w.db, &c.run_id).await.unwrap();
        assert_eq!(run.run.origin, app::domain::run::RunOrigin::Golden);
        let ledger = run.steps.iter().find(|s| s.node_id == "ledger").unwrap();
        assert_eq!(ledger.attempt, 1);
    }
    // no item waits in anyone's inbox
    let open: i64 = app::store::conn::query_scalar("SELECT COUNT(*) FROM approval_items")
        .fetch_one(&mut w.db.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(open, 0);

    // version 2 routes on the wrong limit: the two big cases fail, by name
    app::ops::workflows::save_version(&w.db, &actor, &wf, &ledger_flow(1000), false, T0)
        .await
        .unwrap();
    let bad = run_and_report(&w, &wf, 2).await;
    assert_eq!((bad.totals.total, bad.totals.passed), (3, 1), "{bad:#?}");
    let failed: Vec<&str> = bad
        .cases
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(failed, ["big, approved", "big, edited"]);
    let edited = bad.cases.iter().find(|c| c.name == "big, edited").unwrap();
    let what: Vec<&str> = edited.failures.iter().map(|f| f.what.as_str()).collect();
    assert!(
        what.contains(&"step 'route' took 'default', expected 'big'"),
        "{what:?}"
    );
    let paths: Vec<&str> = edited.failures[0]
        .diff
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(paths, [".checked", ".size"]);
    assert_eq!(bad.totals.steps[0].accuracy, 1.0 / 3.0);
    let approved = bad
        .cases
        .iter()
        .find(|c| c.name == "big, approved")
        .unwrap();
    assert!(
        approved.failures.iter().any(|f| f
            .what
            .starts_with("assertion 'a person was asked' gave false")),
        "{approved:?}"
    );
    // a report read again is the same (the verdicts are kept)
    let again = golden::report(&w.db, &w.engine, &bad.suite_id, T0)
        .await
        .unwrap();
    assert_eq!(again.cases, bad.cases);

    // publishing requires every case to pass: version 2 is refused with
    // the failed cases named, version 1 goes through
    use app::ops::workflows::{Gate, publish};
    golden::set_publish_gate(&w.db, &actor, &wf, Some(100.0), T0)
        .await
        .unwrap();
    let e = publish(&w.db, &actor, &wf, 2, Gate::Check(Some(&w.engine)), T0)
        .await
        .unwrap_err();
    assert_eq!(e.code, app::error::ErrorCode::Conflict);
    assert!(e.message.contains("passed 1 of 3 cases"), "{}", e.message);
    assert!(
        e.message.contains("'big, approved', 'big, edited'"),
        "{}",
        e.message
    );
    publish(&w.db, &actor, &wf, 1, Gate::Check(Some(&w.engine)), T0)
        .await
        .unwrap();
    // version 2's report now shows what publishing it would change
    let compared = golden::report(&w.db, &w.engine, &bad.suite_id, T0)
        .await
        .unwrap()
        .published
        .expect("the published version's figures");
    assert_eq!((compared.version, compared.totals.pass_pct), (1, 100.0));
    assert_eq!(compared.suite_id, good.suite_id);
    // an admin publishes version 2 anyway: the audit says so, and why
    publish(&w.db, &actor, &wf, 2, Gate::Override(Some(&w.engine)), T0)
        .await
        .unwrap();
    let event = w.event("workflow.published", None).await;
    let overridden = event.details["golden_set"]["overridden"].as_str().unwrap();
    assert!(
        overridden.contains("passed 1 of 3 cases"),
        "{}",
        event.details
    );
    // a version the golden set has not run on is refused, saying so
    app::ops::workflows::save_version(&w.db, &actor, &wf, &ledger_flow(100), false, T0)
        .await
        .unwrap();
    let e = publish(&w.db, &actor, &wf, 3, Gate::Check(Some(&w.engine)), T0)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("has not run on version 3"),
        "{}",
        e.message
    );
    // a gate out of range is refused
    let e = golden::set_publish_gate(&w.db, &actor, &wf, Some(0.0), T0)
        .await
        .unwrap_err();
    assert!(e.message.starts_with("min_pass_pct:"), "{}", e.message);
}

#[tokio::test]
async fn a_case_without_a_recording_or_a_decision_fails_saying_what_to_add() {
    let w = World::new().await;
    let actor = Actor("user:tester".into());
    let wf = invoices(&w, &actor, 100).await;
    let mut no_recording = case("no recording", 0, "default", json!({"size": "small"}), None);
    no_recording.recorded.clear();
    let no_decision = case("no decision", 150, "big", json!({"size": "big"}), None);
    for c in [no_recording, no_decision] {
        golden::create_case(&w.db, &actor, &wf, c, None, T0)
            .await
            .unwrap();
    }
    let report = run_and_report(&w, &wf, 1).await;
    assert_eq!(report.totals.passed, 0);
    for c in &report.cases {
        let run = app::ops::runs::get(&w.db, &c.run_id).await.unwrap();
        assert_eq!(
            run.run.status,
            app::domain::run::RunStatus::Failed,
            "{}",
            c.name
        );
        let why = run.run.error.clone().unwrap_or_default();
        let expected = if c.name == "no recording" {
            "records no answer for step 'ledger'"
        } else {
            "has no decision for this step"
        };
        assert!(why.contains(expected), "{}: {why}", c.name);
    }
    // with no cases at all, a suite is refused with what to do
    let other = invoices(&w, &actor, 1).await;
    let e = golden::run_suite(&w.db, &actor, &other, 1, None, T0)
        .await
        .unwrap_err();
    assert!(e.message.contains("no test cases"), "{}", e.message);
    // a case that is not one is refused field by field
    let e = golden::create_case(&w.db, &actor, &wf, CaseSpec::default(), None, T0)
        .await
        .unwrap_err();
    assert!(e.message.starts_with("name:"), "{}", e.message);
}

#[tokio::test]
async fn a_finished_run_saved_as_a_case_replays_to_the_same_result() {
    let w = World::new().await;
    let actor = Actor("user:tester".into());
    let flow = crate::common::world::def(
        vec![
            crate::common::world::start(),
            crate::common::world::transform("double", "{n: (.input.n * 2)}"),
            crate::common::world::end("end", Some(".steps.double.output")),
        ],
        vec![("start", "out", "double"), ("double", "out", "end")],
    );
    let run = w.start(flow, json!({"n": 21})).await;
    w.idle().await;
    let wf = app::ops::runs::get(&w.db, run.as_str())
        .await
        .unwrap()
        .run
        .workflow_id;
    let saved = golden::case_from_run(&w.db, &actor, run.as_str(), "doubles", T0)
        .await
        .unwrap();
    assert_eq!(saved.spec.input, json!({"n": 21}));
    assert_eq!(saved.spec.expect_output, Some(json!({"n": 42})));
    assert_eq!(saved.source.as_deref(), Some(format!("run:{run}").as_str()));
    let report = run_and_report(&w, &wf, 1).await;
    assert_eq!(report.totals.passed, 1, "{report:?}");
}

#[tokio::test]
async fn a_decided_item_saved_as_a_case_expects_what_the_person_decided() {
    use crate::approvals::{doubtful, item, person};
    use app::domain::auth::Role;
    let w = World::new().await;
    let actor = Actor("user:tester".into());
    let run = w.start(doubtful(), json!({})).await;
    w.idle().await;
    let waiting = item(&w, &run, "b").await;
    // an undecided item is no test case yet
    let e = golden::case_from_item(&w.db, &actor, waiting.id.as_str(), "b", T0)
        .await
        .unwrap_err();
    assert!(e.message.contains("not decided yet"), "{}", e.message);
    let input = app::ops::approvals::DecisionInput {
        decision: "approve".into(),
        comment: String::new(),
        output: Some(json!({"total": 90})),
        answers: Default::default(),
    };
    app::ops::approvals::decide(
        &w.db,
        &person("ann", Role::Admin),
        waiting.id.as_str(),
        input,
        T0,
    )
    .await
    .unwrap();
    w.idle().await;
    let saved = golden::case_from_item(&w.db, &actor, waiting.id.as_str(), "total fixed", T0)
        .await
        .unwrap();
    assert_eq!(
        saved.spec.decisions.get("b"),
        Some(&CaseDecision::Edit {
            output: json!({"total": 90})
        })
    );
    assert_eq!(
        saved.spec.assertions[0].jq,
        ".steps[\"b\"].output == {\"total\":90}"
    );
    assert_eq!(
        saved.source.as_deref(),
        Some(format!("item:{}", waiting.id).as_str())
    );
    // the set replays it: the case decides as the person did, and passes
    let wf = app::ops::runs::get(&w.db, run.as_str())
        .await
        .unwrap()
        .run
        .workflow_id;
    let report = run_and_report(&w, &wf, 1).await;
    assert_eq!(report.totals.passed, 1, "{report:#?}");
    assert!(report.cases[0].asked);
}

#[tokio::test]
async fn hostile_assertions_are_stopped_in_the_sandbox_and_fail_only_their_case() {
    let w = World::new().await;
    let actor = Actor("user:tester".into());
    let wf = invoices(&w, &actor, 100).await;
    let mut hostile = case("hostile", 50, "default", json!({"size": "small"}), None);
    for (name, jq) in [
        ("never ends", "def f: f; f"),
        ("eats memory", "[range(100000000)] | length > 0"),
        ("true", "true"),
    ] {
        hostile.assertions.push(Assertion {
            name: name.into(),
            jq: jq.into(),
        });
    }
    golden::create_case(&w.db, &actor, &wf, hostile, None, T0)
        .await
        .unwrap();
    let fine = case("fine", 50, "default", json!({"size": "small"}), None);
    golden::create_case(&w.db, &actor, &wf, fine, None, T0)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let report = run_and_report(&w, &wf, 1).await;
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    let by_name = |n: &str| report.cases.iter().find(|c| c.name == n).unwrap();
    assert!(by_name("fine").passed);
    let h = by_name("hostile");
    assert!(!h.passed);
    let what: Vec<&str> = h.failures.iter().map(|f| f.what.as_str()).collect();
    assert_eq!(what.len(), 2, "{what:?}");
    assert!(
        what[0].starts_with("assertion 'never ends' could not be evaluated"),
        "{what:?}"
    );
    assert!(
        what[1].starts_with("assertion 'eats memory' could not be evaluated"),
        "{what:?}"
    );
}
