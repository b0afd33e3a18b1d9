//! Model connections through the REST API, each answer checked against
//! the OpenAPI document.

use crate::rest_api::Api;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_admin_puts_lists_and_deletes_model_connections_and_bad_ones_say_what_to_fix() {
    let api = Api::new().await;
    let good = json!({"name": "local", "base_url": "http://127.0.0.1:11434/v1", "model": "llama3.1:8b",
                      "price_in_per_1k": 0.1});
    let (s, saved) = api
        .json("PUT", "/api/v1/model-connections/local", good.to_string())
        .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    assert_eq!(saved["timeout_ms"], 60_000, "the default timeout");
    let (s, list) = api.get("/api/v1/model-connections").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["connections"][0]["model"], "llama3.1:8b");

    let (s, e) = api
        .json("PUT", "/api/v1/model-connections/other", good.to_string())
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("must be the same")
    );
    let bad = json!({"name": "x", "base_url": "file:///etc/passwd", "model": "m", "api_key_secret": "NOPE"});
    let (s, e) = api
        .json("PUT", "/api/v1/model-connections/x", bad.to_string())
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("starts with http:// or https://"),
        "{e}"
    );
    let unknown = json!({"name": "x", "base_url": "http://h/v1", "model": "m", "key": "sk-123"});
    let (s, _) = api
        .json("PUT", "/api/v1/model-connections/x", unknown.to_string())
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown fields are refused");

    let (s, _) = api
        .json("DELETE", "/api/v1/model-connections/local", "")
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api
        .json("DELETE", "/api/v1/model-connections/local", "")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
