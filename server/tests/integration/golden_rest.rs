//! Golden sets through the REST API (every answer checked against the
//! OpenAPI document): save a run as a case, add cases by hand, run the set,
//! read the report, and be refused publishing until an admin overrides.

use crate::webhooks::{Stack, three_steps};
use serde_json::{Value, json};

async fn settled(st: &Stack, suite: &str) -> Value {
    for _ in 0..200 {
        let (s, r) = st
            .api("GET", &format!("/api/v1/test-suites/{suite}"), None)
            .await;
        assert_eq!(s, 200, "{r}");
        if r["finished"] == true {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the suite did not finish");
}

#[tokio::test]
async fn cases_from_a_run_and_by_hand_run_as_a_suite_and_gate_publishing() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (s, started) = st
        .api(
            "POST",
            &format!("/api/v1/workflows/{wf}/runs"),
            Some(json!({"input": {"amount": 21}})),
        )
        .await;
    assert_eq!(s, 202, "{started}");
    let run = started["run_id"].as_str().unwrap();
    let (_, done) = st
        .api("GET", &format!("/api/v1/runs/{run}?wait_ms=10000"), None)
        .await;
    assert_eq!(done["status"], "succeeded");
    let (s, saved) = st
        .api(
            "POST",
            &format!("/api/v1/runs/{run}/test-case"),
            Some(json!({"name": "doubles 21"})),
        )
        .await;
    assert_eq!(s, 201, "{saved}");
    assert_eq!(saved["expect_output"], json!({"amount": 42}));
    // by hand: a wrong expectation, a broken assertion, an unknown field
    let cases = format!("/api/v1/workflows/{wf}/test-cases");
    let (s, wrong) = st
        .api(
            "POST",
            &cases,
            Some(json!({"name": "wrong on purpose", "input": {"amount": 1},
                                          "expect_output": {"amount": 3}})),
        )
        .await;
    assert_eq!(s, 201, "{wrong}");
    let (s, e) = st
        .api(
            "POST",
            &cases,
            Some(json!({"name": "bad", "assertions": [{"name": "x", "jq": ".a =="}]})),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("assertions[0].jq:"),
        "{e}"
    );
    let (s, e) = st
        .api("POST", &cases, Some(json!({"name": "bad", "expected": 1})))
        .await;
    assert_eq!(s, 400, "{e}");
    let (_, list) = st.api("GET", &cases, None).await;
    assert_eq!(list["test_cases"].as_array().unwrap().len(), 2);

    // the set on version 1: one passes, one fails with its diff
    let (s, suite) = st
        .api(
            "POST",
            &format!("/api/v1/workflows/{wf}/test-suites"),
            Some(json!({})),
        )
        .await;
    assert_eq!((s, suite["cases"].as_u64()), (202, Some(2)), "{suite}");
    let report = settled(&st, suite["suite_id"].as_str().unwrap()).await;
    assert_eq!(
        (
            report["passed"].as_u64(),
            report["cases"].as_array().map(Vec::len)
        ),
        (Some(1), Some(2)),
        "{report}"
    );
    let failed = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["passed"] == false)
        .unwrap();
    assert_eq!(failed["name"], "wrong on purpose");
    assert_eq!(
        failed["failures"][0]["diff"][0],
        json!({"path": ".amount", "expected": 3, "actual": 2})
    );

    // golden runs count as test runs: figures about real work leave them out
    let runs = |test: bool| format!("/api/v1/runs?workflow_id={wf}&test={test}");
    let (_, real) = st.api("GET", &runs(false), None).await;
    assert_eq!(real["runs"].as_array().unwrap().len(), 1, "{real}");
    let (_, tests) = st.api("GET", &runs(true), None).await;
    assert_eq!(tests["runs"].as_array().unwrap().len(), 2, "{tests}");

    // every case must pass to publish: refused, naming the case
    let (s, gate) = st
        .api(
            "PUT",
            &format!("/api/v1/workflows/{wf}/publish-gate"),
            Some(json!({"min_pass_pct": 100})),
        )
        .await;
    assert_eq!(s, 200, "{gate}");
    let publish = format!("/api/v1/workflows/{wf}/published");
    let (s, e) = st.api("PUT", &publish, Some(json!({"version": 1}))).await;
    assert_eq!(s, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'wrong on purpose'"),
        "{e}"
    );
    // an admin publishes anyway
    let (s, _) = st
        .api(
            "PUT",
            &publish,
            Some(json!({"version": 1, "override_gate": true})),
        )
        .await;
    assert_eq!(s, 200);
    // without the failing case, a new run of the set clears the gate
    let id = wrong["id"].as_str().unwrap();
    assert_eq!(
        st.api("DELETE", &format!("/api/v1/test-cases/{id}"), None)
            .await
            .0,
        204
    );
    let (_, suite) = st
        .api(
            "POST",
            &format!("/api/v1/workflows/{wf}/test-suites"),
            Some(json!({"version": 1})),
        )
        .await;
    let report = settled(&st, suite["suite_id"].as_str().unwrap()).await;
    assert_eq!(report["pass_pct"], 100.0, "{report}");
    assert_eq!(
        st.api("PUT", &publish, Some(json!({"version": 1}))).await.0,
        200
    );
    // a suite that does not exist, a run that has not ended
    assert_eq!(
        st.api("GET", "/api/v1/test-suites/suite_none", None)
            .await
            .0,
        404
    );
}
