//! Golden runs never wait: a Delay ends at once, and a case's one decision
//! settles an Approval that needs several people.

use super::golden::run_and_report;
use crate::common::world::{T0, World};
use app::domain::audit::Actor;
use app::domain::golden::{CaseDecision, CaseSpec};
use app::ops::golden;
use serde_json::json;

#[tokio::test]
async fn a_delay_does_not_wait_in_a_golden_run_and_one_decision_settles_a_two_person_approval() {
    let w = World::new().await;
    let actor = Actor("user:tester".into());
    let d: app::domain::graph::WorkflowDef = serde_json::from_value(json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "wait", "name": "Wait a day", "type": "delay", "duration_ms": 86_400_000},
            {"id": "check", "name": "Check", "type": "approval", "title": "Check",
             "approvers": {"roles": ["approver"]}, "required_approvals": 2},
            {"id": "end", "name": "End", "type": "end", "output": "{waited: .steps.wait.output.waited_ms, checked: .steps.check.output}"}
        ],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "check"}, {"from": "check", "to": "end"}]
    }))
    .unwrap();
    let wf = app::ops::workflows::create(&w.db, &actor, "Waits a day", &d, false, T0)
        .await
        .unwrap()
        .workflow_id;
    let mut c = CaseSpec {
        name: "approved after a day".into(),
        input: json!({"n": 1}),
        expect_output: Some(json!({"waited": 86_400_000, "checked": {"n": 1}})),
        ..Default::default()
    };
    c.decisions.insert(
        "check".into(),
        CaseDecision::Edit {
            output: json!({"n": 1}),
        },
    );
    golden::create_case(&w.db, &actor, &wf, c, None, T0)
        .await
        .unwrap();
    // the clock never moves: the suite ends without waiting the day
    let report = run_and_report(&w, &wf, 1).await;
    assert_eq!(
        (report.totals.total, report.totals.passed),
        (1, 1),
        "{report:#?}"
    );
}
