//! A For each's items through the REST API, a page at a time.

use crate::rest_api::Api;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_for_each_items_are_read_a_page_at_a_time_and_bad_pages_are_400() {
    let api = Api::new().await;
    let mut def = app::domain::example::line_items();
    if let app::domain::NodeKind::ForEach(f) = &mut def.nodes[1].kind {
        f.collect_results = false;
    }
    let (s, wf) = api
        .create("Lines", serde_json::to_value(&def).unwrap())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{wf}");
    let lines: Vec<_> = (0..7)
        .map(|i| json!({"sku": i, "qty": 1, "price": i}))
        .collect();
    let (s, started) = api
        .json(
            "POST",
            &format!(
                "/api/v1/workflows/{}/runs",
                wf["workflow_id"].as_str().unwrap()
            ),
            json!({"input": {"lines": lines}}).to_string(),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{started}");
    api.engine.run_until_idle().await.unwrap();
    let run = started["run_id"].as_str().unwrap();
    let (s, detail) = api.get(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(s, StatusCode::OK);
    let out = &detail["output"];
    assert_eq!(out["succeeded"], 7);
    assert!(out.get("results").is_none(), "not gathered: {out}");
    assert_eq!(detail["iterations"]["each_line"]["succeeded"], 7);
    let (s, page) = api
        .get(&format!(
            "/api/v1/runs/{run}/steps/each_line/items?from=5&limit=10"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let page = page.as_array().unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["index"], 5);
    assert_eq!(page[0]["output"]["total"], 5);
    assert_eq!(page[1]["status"], "succeeded");
    let (s, e) = api
        .get(&format!(
            "/api/v1/runs/{run}/steps/each_line/items?limit=501"
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, _) = api
        .get(&format!("/api/v1/runs/{run}/steps/end/items"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
