//! REST API v1 against the real router and a fresh SQLite file per test.

use app::domain::example::invoice_approval;
use app::store::Db;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use server::router;
use tower::ServiceExt;

const LIMIT: usize = 64 * 1024;

pub(crate) struct Api {
    app: axum::Router,
    pub(crate) engine: std::sync::Arc<server::engine::Engine>,
    pub(crate) db: Db,
    /// An admin API token, sent with every request unless one is given.
    token: String,
    _dir: tempfile::TempDir,
}

impl Api {
    pub(crate) async fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::common::fresh_db(dir.path()).await;
        let engine = crate::common::live_engine(&db);
        let sessions = server::sessions::Sessions::open(&db).await.unwrap();
        let token = crate::common::admin_token(&db).await;
        Api {
            app: router(
                crate::common::app_state(&db, engine.clone(), dir.path()),
                sessions,
                LIMIT,
            ),
            engine,
            db,
            token,
            _dir: dir,
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Sends `req` with the test's token and answers the body's bytes as
    /// they came (compressed, if asked for).
    pub(crate) async fn raw(
        &self,
        mut req: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, axum::body::Bytes) {
        req.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {}", self.token).parse().unwrap(),
        );
        let res = self.app.clone().oneshot(req).await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, bytes)
    }

    pub(crate) async fn send(
        &self,
        mut req: Request<Body>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        if !req.headers().contains_key(header::AUTHORIZATION) {
            req.headers_mut().insert(
                header::AUTHORIZATION,
                format!("Bearer {}", self.token).parse().unwrap(),
            );
        }
        self.send_as_is(req).await
    }

    /// Sends the request without adding the test's token; the answer
    /// must be one the OpenAPI document describes.
    pub(crate) async fn send_as_is(
        &self,
        req: Request<Body>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let (method, path) = (req.method().to_string(), req.uri().to_string());
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        if path.starts_with("/api/v1/") || path.starts_with("/hooks/") {
            let media = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            crate::common::openapi::check(&method, &path, status.as_u16(), media, &body);
        }
        (status, body, headers)
    }

    pub(crate) async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (s, b, _) = self
            .send(Request::get(uri).body(Body::empty()).unwrap())
            .await;
        (s, b)
    }

    pub(crate) async fn json(
        &self,
        method: &str,
        uri: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.into())
            .unwrap();
        let (s, b, _) = self.send(req).await;
        (s, b)
    }

    pub(crate) async fn create(&self, name: &str, def: Value) -> (StatusCode, Value) {
        self.json(
            "POST",
            "/api/v1/workflows",
            json!({"name": name, "definition": def}).to_string(),
        )
        .await
    }
}

fn example() -> Value {
    serde_json::to_value(invoice_approval()).unwrap()
}

#[tokio::test]
async fn create_list_get_and_version_a_workflow() {
    let api = Api::new().await;
    let req = Request::post("/api/v1/workflows")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"name": "Invoices", "definition": example()}).to_string(),
        ))
        .unwrap();
    let (status, created, headers) = api.send(req).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["workflow_id"].as_str().unwrap().to_string();
    assert_eq!(headers[header::LOCATION], format!("/api/v1/workflows/{id}"));
    assert_eq!(created["version"], 1);
    assert_eq!(created["definition"], example());

    let (status, list) = api.get("/api/v1/workflows").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["workflows"][0]["name"], "Invoices");
    assert_eq!(list["workflows"][0]["latest_version"], 1);

    let mut changed = example();
    changed["nodes"][1]["name"] = json!("Read the invoice");
    let (status, saved) = api
        .json(
            "PUT",
            &format!("/api/v1/workflows/{id}"),
            json!({"definition": changed}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["version"], 2);

    let (_, latest) = api.get(&format!("/api/v1/workflows/{id}")).await;
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["definition"]["nodes"][1]["name"], "Read the invoice");
    let (status, v1) = api.get(&format!("/api/v1/workflows/{id}/versions/1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v1["definition"], example(), "old versions are unchanged");
    assert_eq!(v1["latest_version"], 2);
    let (status, history) = api.get(&format!("/api/v1/workflows/{id}/versions")).await;
    assert_eq!(status, StatusCode::OK);
    let numbers: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1], "newest first");
    assert_eq!(history[0]["problems"], 0);
    let (status, _) = api.get("/api/v1/workflows/nope/versions").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_definitions_get_422_with_node_named_problems() {
    let api = Api::new().await;
    let mut def = example();
    def["edges"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["port"] != "default");
    def["nodes"][1]["expression"] = json!(".input |");
    let (status, body) = api.create("Broken", def).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_workflow");
    let problems = body["error"]["problems"].as_array().unwrap();
    let kinds: Vec<&str> = problems
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"branch_without_default"), "{kinds:?}");
    assert!(kinds.contains(&"invalid_expression"), "{kinds:?}");
    assert!(problems.iter().any(|p| p["node"] == "extract"));
    // nothing was stored
    let (_, list) = api.get("/api/v1/workflows").await;
    assert_eq!(list["workflows"], json!([]));

    // saving an invalid new version is refused the same way and keeps v1
    let (_, created) = api.create("Good", example()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (status, _) = api
        .json(
            "PUT",
            &format!("/api/v1/workflows/{id}"),
            json!({"definition": {"nodes": []}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, latest) = api.get(&format!("/api/v1/workflows/{id}")).await;
    assert_eq!(latest["version"], 1);
}

#[tokio::test]
async fn malformed_json_is_400_and_says_what_is_wrong() {
    let api = Api::new().await;
    let (status, body) = api
        .json("POST", "/api/v1/workflows", "{\"name\": \"x\", ")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{body}"
    );

    let (status, body) = api
        .json(
            "POST",
            "/api/v1/workflows",
            json!({"name": "x", "definition": {"nodes": [{"id": "a"}]}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("definition.nodes[0]"), "{msg}");

    let (status, body) = api
        .json(
            "POST",
            "/api/v1/workflows",
            json!({"name": "x", "definition": example(), "extra": 1}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("extra"),
        "{body}"
    );

    let req = Request::post("/api/v1/workflows")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let (status, body, _) = api.send(req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let api = Api::new().await;
    let big = json!({"name": "x".repeat(LIMIT), "definition": example()}).to_string();
    let (status, body) = api.json("POST", "/api/v1/workflows", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&LIMIT.to_string())
    );
}

#[tokio::test]
async fn names_are_checked_and_unique() {
    let api = Api::new().await;
    let (status, body) = api.create("   ", example()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs a name")
    );
    let (status, _) = api.create("Twice", example()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api.create("Twice", example()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    let (status, _) = api.create(&"n".repeat(121), example()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_things_are_404_and_bad_versions_400() {
    let api = Api::new().await;
    let (status, body) = api.get("/api/v1/workflows/wf_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("wf_nope")
    );
    let (_, created) = api.create("W", example()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (status, body) = api.get(&format!("/api/v1/workflows/{id}/versions/9")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no version 9")
    );
    let (status, _) = api
        .get(&format!("/api/v1/workflows/{id}/versions/zero"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = api.get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn delete_is_soft_and_frees_the_name() {
    let api = Api::new().await;
    let (_, created) = api.create("Gone", example()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let req = Request::delete(format!("/api/v1/workflows/{id}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = api.send(req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.get(&format!("/api/v1/workflows/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.create("Gone", example()).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn health_and_readiness() {
    let api = Api::new().await;
    let (status, body) = api.get("/healthz").await;
    assert_eq!((status, body), (StatusCode::OK, json!("ok")));
    let (status, body) = api.get("/readyz").await;
    assert_eq!((status, body), (StatusCode::OK, json!("ready")));
}

#[tokio::test]
async fn every_change_writes_an_audit_event() {
    let api = Api::new().await;
    let (_, created) = api.create("Audited", example()).await;
    let id = created["workflow_id"].as_str().unwrap().to_string();
    api.json(
        "PUT",
        &format!("/api/v1/workflows/{id}"),
        json!({"definition": example()}).to_string(),
    )
    .await;
    let req = Request::delete(format!("/api/v1/workflows/{id}"))
        .body(Body::empty())
        .unwrap();
    api.send(req).await;
    // read the trail through the server function the Audit page uses
    let req = Request::post("/rpc/list_audit_events")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let (status, body, _) = api.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let actions: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "workflow.deleted",
            "workflow.version_saved",
            "workflow.created",
            "token.created"
        ]
    );
    // each change names the token that made it
    let actor = body[0]["actor"].as_str().unwrap();
    assert!(actor.starts_with("token:tok_"), "{actor}");
    // and the trail exports, filtered, as CSV and JSONL
    let (status, csv) = api
        .get(&format!("/api/v1/audit?format=csv&entity=workflow%3A{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = csv.as_str().unwrap().to_string();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "seq,at,actor,action,entity,run_id,details");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].contains(",workflow.deleted,"), "{csv}");
    let (_, jsonl) = api
        .get(&format!(
            "/api/v1/audit?format=jsonl&action=workflow.created&entity=workflow%3A{id}"
        ))
        .await;
    let jsonl = jsonl
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| jsonl.to_string());
    assert_eq!(jsonl.lines().count(), 1, "{jsonl}");
}

/// Every REST route and every server function, called by nobody and by a
/// token of each role: 401 without a caller, 403 when the role lacks the
/// permission, and otherwise anything but those two.
#[tokio::test]
async fn every_route_and_server_function_checks_who_is_asking() {
    use app::domain::auth::{Permission, ROLES};
    let api = Api::new().await;
    let (_, created) = api.create("Guarded", example()).await;
    let wf = created["workflow_id"].as_str().unwrap().to_string();
    let (_, run) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{wf}/runs"),
            json!({"input": {"vendor": "ACME", "amount": 5}}).to_string(),
        )
        .await;
    let run = run["run_id"].as_str().unwrap().to_string();
    let mut tokens = vec![(None, String::new())];
    for role in ROLES {
        let t = app::ops::accounts::create_token(&api.db, "tests", role.as_str(), role, 2)
            .await
            .unwrap();
        tokens.push((Some(role), t.secret));
    }
    let def =
        json!({"definition": serde_json::to_value(app::domain::WorkflowDef::minimal()).unwrap()})
            .to_string();
    let create =
        json!({"name": "x", "definition": app::domain::WorkflowDef::minimal()}).to_string();
    use Permission::*;
    // (method, path, body, permission): changes aim at things that do not
    // exist, so an allowed call ends in 404 and changes nothing
    let rest: Vec<(&str, String, String, Permission)> = vec![
        ("GET", "/api/v1/workflows".into(), String::new(), Read),
        (
            "POST",
            "/api/v1/workflows".into(),
            create.clone(),
            EditWorkflows,
        ),
        (
            "GET",
            format!("/api/v1/workflows/{wf}"),
            String::new(),
            Read,
        ),
        (
            "GET",
            format!("/api/v1/workflows/{wf}/versions"),
            String::new(),
            Read,
        ),
        (
            "GET",
            format!("/api/v1/workflows/{wf}/versions/1"),
            String::new(),
            Read,
        ),
        (
            "PUT",
            "/api/v1/workflows/nope".into(),
            def.clone(),
            EditWorkflows,
        ),
        (
            "DELETE",
            "/api/v1/workflows/nope".into(),
            String::new(),
            EditWorkflows,
        ),
        (
            "POST",
            "/api/v1/workflows/nope/runs".into(),
            "{}".into(),
            OperateRuns,
        ),
        (
            "GET",
            "/api/v1/runs?status=running".into(),
            String::new(),
            Read,
        ),
        ("GET", format!("/api/v1/runs/{run}"), String::new(), Read),
        (
            "GET",
            format!("/api/v1/runs/{run}/attempts"),
            String::new(),
            Read,
        ),
        (
            "POST",
            "/api/v1/runs/nope/cancel".into(),
            String::new(),
            OperateRuns,
        ),
        (
            "POST",
            "/api/v1/runs/nope/rerun".into(),
            String::new(),
            OperateRuns,
        ),
        (
            "POST",
            "/api/v1/runs/nope/steps/x/retry".into(),
            String::new(),
            OperateRuns,
        ),
        ("GET", "/api/v1/approvals".into(), String::new(), Read),
        ("GET", "/api/v1/approvals/nope".into(), String::new(), Read),
        (
            "GET",
            "/api/v1/approvals/export?workflow_id=nope".into(),
            String::new(),
            Read,
        ),
        (
            "GET",
            "/api/v1/audit?format=csv".into(),
            String::new(),
            Read,
        ),
        (
            "POST",
            "/api/v1/approvals/nope/decision".into(),
            r#"{"decision": "approve"}"#.into(),
            DecideApprovals,
        ),
    ];
    // (server function, form body, permission)
    let rpc: Vec<(&str, String, Permission)> = vec![
        ("list_workflows", String::new(), Read),
        ("get_workflow", format!("id={wf}"), Read),
        ("list_versions", format!("id={wf}"), Read),
        ("create_workflow", "name=".into(), EditWorkflows),
        ("rename_workflow", "id=nope&name=y".into(), EditWorkflows),
        ("delete_workflow", "id=nope".into(), EditWorkflows),
        (
            "save_workflow",
            "id=nope&definition=%7B%7D".into(),
            EditWorkflows,
        ),
        (
            "start_run",
            "workflow_id=nope&input=%7B%7D".into(),
            OperateRuns,
        ),
        ("get_run", format!("id={run}"), Read),
        ("list_runs", String::new(), Read),
        ("get_attempts", format!("id={run}"), Read),
        ("cancel_run", "id=nope".into(), OperateRuns),
        ("retry_step", "id=nope&node_id=x&input=".into(), OperateRuns),
        ("rerun_run", "id=nope&latest=false".into(), OperateRuns),
        ("list_audit_events", String::new(), Read),
        ("verify_audit", String::new(), Read),
        ("list_users", String::new(), Administer),
        (
            "create_user",
            "username=x&display_name=&password=short&role=viewer".into(),
            Administer,
        ),
        ("update_user", "id=nope".into(), Administer),
        ("list_tokens", String::new(), Administer),
        ("create_token", "name=&role=viewer".into(), Administer),
        ("revoke_token", "id=nope".into(), Administer),
        ("list_secrets", String::new(), EditWorkflows),
        (
            "set_secret",
            "name=bad-name&value=v&hosts=api.example".into(),
            Administer,
        ),
        ("delete_secret", "name=NOPE".into(), Administer),
        ("list_approvals", "status=pending".into(), Read),
        ("get_approval", "id=nope".into(), Read),
        (
            "decide_approval",
            "id=nope&decision=approve&comment=&output=&answers=".into(),
            DecideApprovals,
        ),
    ];
    let mut checked = 0;
    for (role, token) in &tokens {
        let expect = |perm: Permission| match role {
            None => Some(StatusCode::UNAUTHORIZED),
            Some(r) if !r.allows(perm) => Some(StatusCode::FORBIDDEN),
            _ => None,
        };
        let with_caller = |mut b: axum::http::request::Builder| {
            // as a browser on this site would send it
            b = b
                .header(header::HOST, "test")
                .header(header::ORIGIN, "http://test");
            if !token.is_empty() {
                b = b.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            b
        };
        for (method, path, body, perm) in &rest {
            let req = with_caller(Request::builder().method(*method).uri(path))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.clone()))
                .unwrap();
            let (status, answer, _) = api.send_as_is(req).await;
            match expect(*perm) {
                Some(code) => assert_eq!(status, code, "{role:?} {method} {path}: {answer}"),
                None => assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{role:?} {method} {path} was refused: {answer}"
                ),
            }
            checked += 1;
        }
        for (name, form, perm) in &rpc {
            let req = with_caller(Request::post(format!("/rpc/{name}")))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form.clone()))
                .unwrap();
            let (status, answer, _) = api.send_as_is(req).await;
            match expect(*perm) {
                Some(code) => assert_eq!(status, code, "{role:?} /rpc/{name}: {answer}"),
                None => assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{role:?} /rpc/{name} was refused: {answer}"
                ),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * (rest.len() + rpc.len()));
    // nothing named in the refused calls came to exist
    let (_, list) = api.get("/api/v1/workflows").await;
    assert_eq!(
        list["workflows"].as_array().unwrap().len(),
        2,
        "Guarded and one 'x' by an allowed role"
    );
}

/// A change sent with a cookie from another site is refused before it
/// reaches any handler; an unknown token is 401 with a clear message.
#[tokio::test]
async fn cross_site_changes_and_unknown_tokens_are_refused() {
    let api = Api::new().await;
    let req = Request::post("/rpc/sign_in")
        .header(header::HOST, "test")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("username=a&password=b"))
        .unwrap();
    let (status, body, _) = api.send_as_is(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cross-site")
    );
    let req = Request::get("/api/v1/workflows")
        .header(header::AUTHORIZATION, "Bearer swt_not_a_real_token")
        .body(Body::empty())
        .unwrap();
    let (status, body, _) = api.send_as_is(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown or was revoked")
    );
}

pub(crate) fn small_def() -> Value {
    json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "calc", "name": "Calc", "type": "transform", "expression": "{total: (.input.a + .input.b)}"},
            {"id": "check", "name": "Check", "type": "transform", "expression": "if .input.fail then error(\"asked to fail\") else . end",
             "retry": {"format": {"max_attempts": 1}}},
            {"id": "end", "name": "End", "type": "end", "output": ".steps.calc.output.total"}
        ],
        "edges": [
            {"from": "start", "to": "calc"}, {"from": "calc", "to": "check"}, {"from": "check", "to": "end"}
        ]
    })
}

/// [`small_def`] with a Code step after its Start: a run of it is left to
/// the workers when it starts (what follows its Start is not pure, so the
/// start does not carry it), so it is running until the engine runs.
pub(crate) fn queued_def() -> Value {
    let mut d = small_def();
    d["nodes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "hold", "name": "Hold", "type": "code",
                    "source": "function main(ctx) { return ctx.input; }"}));
    d["edges"][0] = json!({"from": "start", "to": "hold"});
    d["edges"]
        .as_array_mut()
        .unwrap()
        .push(json!({"from": "hold", "to": "calc"}));
    d
}

#[tokio::test]
async fn start_a_run_and_read_it_back() {
    let api = Api::new().await;
    let (_, created) = api.create("Adder", small_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (status, body) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{id}/runs"),
            json!({"input": {"a": 2, "b": 3}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run_id = body["run_id"].as_str().unwrap().to_string();
    api.engine.run_until_idle().await.unwrap();
    let (status, run) = api.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], 5);
    assert_eq!(run["confidence"], 1.0);
    let steps = run["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    for s in steps {
        assert_eq!(s["status"], "succeeded");
        assert_eq!(s["attempt"], 1);
        assert!(s["started_at"].is_i64() && s["finished_at"].is_i64(), "{s}");
    }
    assert_eq!(steps[1]["node_id"], "calc");
    assert_eq!(steps[1]["output"], json!({"total": 5}));
    let (status, attempts) = api.get(&format!("/api/v1/runs/{run_id}/attempts")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(attempts.as_array().unwrap().len(), 4);

    // cancelling a finished run is refused; re-running makes a new run
    let (status, body) = api
        .json("POST", &format!("/api/v1/runs/{run_id}/cancel"), "")
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = api
        .json("POST", &format!("/api/v1/runs/{run_id}/rerun"), "")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_ne!(body["run_id"], run_id.as_str());
}

#[tokio::test]
async fn retry_a_failed_step_through_the_api() {
    let api = Api::new().await;
    let (_, created) = api.create("Failing", small_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (_, body) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{id}/runs"),
            json!({"input": {"a": 1, "b": 1, "fail": true}}).to_string(),
        )
        .await;
    let run_id = body["run_id"].as_str().unwrap().to_string();
    api.engine.run_until_idle().await.unwrap();
    let (_, run) = api.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"].as_str().unwrap().contains("asked to fail"),
        "{run}"
    );

    let (status, body) = api
        .json(
            "POST",
            &format!("/api/v1/runs/{run_id}/steps/calc/retry"),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "only failed steps: {body}");
    let (status, _) = api
        .json(
            "POST",
            &format!("/api/v1/runs/{run_id}/steps/nope/retry"),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let edited = json!({"input": {"input": {"fail": false}, "steps": {}}});
    let (status, body) = api
        .json(
            "POST",
            &format!("/api/v1/runs/{run_id}/steps/check/retry"),
            edited.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    api.engine.run_until_idle().await.unwrap();
    let (_, run) = api.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], 2);
}

#[tokio::test]
async fn runs_of_unknown_or_broken_things_are_refused_clearly() {
    let api = Api::new().await;
    let (status, body) = api
        .json(
            "POST",
            "/api/v1/workflows/wf_nope/runs",
            json!({"input": {}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = api.get("/api/v1/runs/run_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, created) = api.create("Ok", small_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (status, body) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{id}/runs"),
            json!({"inputs": {}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("inputs"),
        "{body}"
    );
}

#[tokio::test]
async fn get_run_can_wait_for_the_end() {
    let api = Api::new().await;
    let (_, created) = api.create("Waited", queued_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (_, body) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{id}/runs"),
            json!({"input": {"a": 1, "b": 2}}).to_string(),
        )
        .await;
    let run_id = body["run_id"].as_str().unwrap().to_string();
    let (_, run) = api.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run["status"], "running", "nothing has run yet");
    let engine = api.engine.clone();
    let worker = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        engine.run_until_idle().await.unwrap();
    });
    let (status, run) = api
        .get(&format!("/api/v1/runs/{run_id}?wait_ms=10000"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(run["status"], "succeeded", "{run}");
    worker.await.unwrap();
}

#[tokio::test]
async fn a_wait_for_the_end_answers_soon_after_a_cancel_through_the_api() {
    let api = std::sync::Arc::new(Api::new().await);
    let (_, created) = api.create("Cancelled while watched", queued_def()).await;
    let id = created["workflow_id"].as_str().unwrap();
    let (_, body) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{id}/runs"),
            json!({"input": {"a": 1, "b": 2}}).to_string(),
        )
        .await;
    let run_id = body["run_id"].as_str().unwrap().to_string();
    let canceller = {
        let (api, run_id) = (api.clone(), run_id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            api.json("POST", &format!("/api/v1/runs/{run_id}/cancel"), "")
                .await
        })
    };
    let started = std::time::Instant::now();
    let (status, run) = api
        .get(&format!("/api/v1/runs/{run_id}?wait_ms=20000"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(run["status"], "cancelled", "{run}");
    assert!(
        started.elapsed().as_secs() < 5,
        "waited {:?} after the cancel",
        started.elapsed()
    );
    assert_eq!(canceller.await.unwrap().0, StatusCode::NO_CONTENT);
}

async fn sign_in(api: &Api, username: &str, password: &str) -> (StatusCode, Value) {
    let form = format!("username={username}&password={password}");
    let req = Request::post("/rpc/sign_in")
        .header(header::HOST, "test")
        .header(header::ORIGIN, "http://test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let (status, body, _) = api.send_as_is(req).await;
    (status, body)
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_username_for_a_while() {
    use app::domain::auth::Role;
    let api = Api::new().await;
    app::ops::accounts::create_user(
        &api.db,
        "tests",
        "dana",
        "",
        "the right password",
        Role::Editor,
        1,
    )
    .await
    .unwrap();
    let (status, _) = sign_in(&api, "dana", "the+right+password").await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..5 {
        let (status, body) = sign_in(&api, "dana", "wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert!(
            body.to_string().contains("wrong username or password"),
            "{body}"
        );
    }
    // now even the right password waits
    let (status, body) = sign_in(&api, "dana", "the+right+password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.to_string().contains("try again in"), "{body}");
    // unknown names are locked the same way (no hint which names exist)
    for _ in 0..5 {
        sign_in(&api, "nobody", "x").await;
    }
    let (status, _) = sign_in(&api, "nobody", "x").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

/// Inputs that try to break out get a clear 4xx, never a 500, and change nothing.
#[tokio::test]
async fn hostile_inputs_are_refused_or_kept_as_text() {
    let api = Api::new().await;
    // SQL metacharacters are data
    let sneaky = "x'); DROP TABLE workflows; --";
    let (status, created) = api.create(sneaky, example()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], sneaky);
    for path in [
        "/api/v1/workflows/' OR '1'='1",
        "/api/v1/runs/1%20OR%201=1",
        "/api/v1/workflows/%27%3B--/versions",
    ] {
        let uri = path.replace(' ', "%20").replace('\'', "%27");
        let (status, body) = api.get(&uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    // filters: a bad status is refused, a quoted id matches nothing
    let (status, body) = api
        .get("/api/v1/approvals?status=%27%20OR%201%3D1%20--")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not one of pending, approved, rejected, cancelled, decided")
    );
    for (query, says) in [
        (
            "reason=gut",
            "reason 'gut' is not one of approval, confidence",
        ),
        ("limit=900", "limit 900 is outside 0 to 500"),
        (
            "colour=red",
            "the query parameter 'colour' is wrong: unknown field",
        ),
    ] {
        let (status, body) = api.get(&format!("/api/v1/approvals?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{query}: {message}");
    }
    let (status, body) = api
        .get("/api/v1/approvals/export?workflow_id=%27%20OR%20%271%27%3D%271")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, Value::Null, "no lines: {body}");
    let (status, body) = api.get("/api/v1/approvals?limit=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the query parameter 'limit' is wrong"),
        "{body}"
    );
    let (status, body) = api.get("/api/v1/runs/nope?wait_ms=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("wait_ms"),
        "{body}"
    );
    // not UTF-8
    let req = Request::post("/api/v1/workflows")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))
        .unwrap();
    let (status, body, _) = api.send(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // over-long names, and control characters
    let (status, body) = api.create(&"n".repeat(500), example()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 120")
    );
    let (status, _) = api.create("line\nbreak", example()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // over-long run input
    let wf = created["workflow_id"].as_str().unwrap();
    let huge = json!({"input": {"vendor": "x".repeat(200_000), "amount": 1}}).to_string();
    let (status, _) = api
        .json("POST", &format!("/api/v1/workflows/{wf}/runs"), huge)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // a bad username or role from a server function is a 400 with the rule
    let req = Request::post("/rpc/create_user")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "username=%3Cscript%3E&display_name=&password=long+enough+pw&role=viewer",
        ))
        .unwrap();
    let (status, body, _) = api.send(req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("a username has"), "{body}");
    // nothing but the sneaky workflow was created
    let (_, list) = api.get("/api/v1/workflows").await;
    assert_eq!(list["workflows"].as_array().unwrap().len(), 1);
}

/// The run's starter may not approve it through the API either: a token
/// that started a run is refused on its item.
#[tokio::test]
async fn the_starter_cannot_approve_their_own_run_through_the_api() {
    use app::domain::auth::Role;
    let api = Api::new().await;
    let approver = app::ops::accounts::create_token(&api.db, "tests", "ops bot", Role::Approver, 2)
        .await
        .unwrap()
        .secret;
    let def = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ok", "name": "OK", "type": "approval", "title": "OK?", "approvers": {"roles": ["approver", "admin"]}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end"}]
    });
    let (_, wf) = api.create("Self", def).await;
    let wf = wf["workflow_id"].as_str().unwrap().to_string();
    // the admin token starts the run
    let req = Request::post(format!("/api/v1/workflows/{wf}/runs"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"input": {}}"#))
        .unwrap();
    let (status, started, _) = api.send(req).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let run = started["run_id"].as_str().unwrap().to_string();
    api.engine.run_until_idle().await.unwrap();
    let (_, list) = api.get("/api/v1/approvals?status=pending&all=true").await;
    let item = list["approvals"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(list["approvals"][0]["run_id"], run.as_str());
    assert_eq!(list["total"], 1);
    let (_, only_total) = api.get("/api/v1/approvals?all=true&limit=0").await;
    assert_eq!(only_total, json!({"approvals": [], "total": 1}));

    // admins may decide this item, but not the one who started the run
    let (status, body) = api
        .json(
            "POST",
            &format!("/api/v1/approvals/{item}/decision"),
            r#"{"decision": "approve"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("you started this run"),
        "{body}"
    );
    let req = Request::post(format!("/api/v1/approvals/{item}/decision"))
        .header(header::AUTHORIZATION, format!("Bearer {approver}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"decision": "approve", "comment": "fine"}"#))
        .unwrap();
    let (status, body, _) = api.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
    assert_eq!(
        body["decided_by"].as_str().unwrap().split(':').next(),
        Some("token")
    );
}

#[tokio::test]
async fn the_runs_list_pages_by_keyset_filters_and_counts() {
    let api = Api::new().await;
    let (_, wf) = api.create("Listed", small_def()).await;
    let wf = wf["workflow_id"].as_str().unwrap().to_string();
    let mut ids = Vec::new();
    for n in 0..5 {
        let input = if n == 3 {
            json!({"a": n, "b": 1, "note": "needle in here"})
        } else {
            json!({"a": n, "b": 1})
        };
        let (status, body) = api
            .json(
                "POST",
                &format!("/api/v1/workflows/{wf}/runs"),
                json!({"input": input}).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.push(body["run_id"].as_str().unwrap().to_string());
    }
    api.engine.run_until_idle().await.unwrap();
    // pages of two, newest first, no run twice
    let mut seen = Vec::new();
    let mut uri = "/api/v1/runs?limit=2".to_string();
    loop {
        let (status, page) = api.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for r in page["runs"].as_array().unwrap() {
            seen.push(r[0]["id"].as_str().unwrap().to_string());
        }
        assert_eq!(page["counts"], json!([["succeeded", 5]]));
        match page["next"].as_array() {
            Some(n) => {
                uri = format!(
                    "/api/v1/runs?limit=2&before_at={}&before_id={}",
                    n[0],
                    n[1].as_str().unwrap()
                )
            }
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    // a search over the input, and filters
    let (_, found) = api.get("/api/v1/runs?q=needle").await;
    let found = found["runs"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0][0]["id"], ids[3].as_str());
    assert_eq!(found[0][1], "Listed");
    let (_, none) = api.get("/api/v1/runs?status=failed").await;
    assert!(none["runs"].as_array().unwrap().is_empty());
    let (_, other) = api.get("/api/v1/runs?workflow_id=nope").await;
    assert_eq!(other["counts"], json!([]));
    // every filter at once (each bound in its place), then paged by keyset
    let all = format!(
        "/api/v1/runs?workflow_id={wf}&status=succeeded&from=0&to=99999999999999&q=1&test=false&limit=2"
    );
    let (status, first) = api.get(&all).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["counts"], json!([["succeeded", 5]]));
    let n = first["next"].as_array().expect("a next page").clone();
    let (status, second) = api
        .get(&format!(
            "{all}&before_at={}&before_id={}",
            n[0],
            n[1].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let page_ids = |p: &Value| -> Vec<String> {
        p["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(page_ids(&first), [ids[4].clone(), ids[3].clone()]);
    assert_eq!(page_ids(&second), [ids[2].clone(), ids[1].clone()]);
    let (_, later) = api
        .get(&format!(
            "/api/v1/runs?workflow_id={wf}&from=99999999999999"
        ))
        .await;
    assert_eq!(later["counts"], json!([]));
    // none of them is a test run of a working copy
    let (_, real) = api.get("/api/v1/runs?test=false").await;
    assert_eq!(real["counts"], json!([["succeeded", 5]]));
    let (_, tests) = api.get("/api/v1/runs?test=true").await;
    assert_eq!(tests["counts"], json!([]));
    let (status, bad) = api.get("/api/v1/runs?test=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
}

#[tokio::test]
async fn a_published_version_is_what_a_start_without_a_version_runs() {
    let api = Api::new().await;
    let (_, wf) = api.create("Published", small_def()).await;
    let id = wf["workflow_id"].as_str().unwrap().to_string();
    assert_eq!(
        wf["published_version"],
        Value::Null,
        "nothing is published at first"
    );
    let start = |input: Value| {
        let uri = format!("/api/v1/workflows/{id}/runs");
        let api = &api;
        async move {
            let (status, body) = api
                .json("POST", &uri, json!({"input": input}).to_string())
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            let run = body["run_id"].as_str().unwrap().to_string();
            let (_, r) = api.get(&format!("/api/v1/runs/{run}")).await;
            r["version"].as_i64().unwrap()
        }
    };
    let published = format!("/api/v1/workflows/{id}/published");
    let publish =
        |version: i64| api.json("PUT", &published, json!({ "version": version }).to_string());
    let unpublish = || api.json("DELETE", &published, "");
    // nothing published: the latest runs, as before
    assert_eq!(start(json!({"a": 1, "b": 2})).await, 1);
    let (status, body) = publish(1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["published_version"], 1);
    // newer versions are saved (the designer saves drafts with problems
    // too): version 1 still runs
    let (status, saved) = api
        .json(
            "PUT",
            &format!("/api/v1/workflows/{id}"),
            json!({"definition": small_def()}).to_string(),
        )
        .await;
    assert!(status.is_success(), "{saved}");
    let mut draft: app::domain::WorkflowDef = serde_json::from_value(small_def()).unwrap();
    draft.edges.pop();
    let actor = app::domain::audit::Actor("user:ed".into());
    app::ops::workflows::save_version(&api.db, &actor, &id, &draft, true, 1)
        .await
        .unwrap();
    assert_eq!(start(json!({"a": 1, "b": 2})).await, 1);
    let (_, listed) = api.get("/api/v1/workflows").await;
    let row = listed["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            row["latest_version"].as_i64(),
            row["published_version"].as_i64()
        ),
        (Some(3), Some(1))
    );
    // a version with problems cannot be published; nothing changes
    let (status, body) = publish(3).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("version 3 cannot be published"),
        "{body}"
    );
    let (status, body) = publish(9).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // not a saved version, or not a number that fits: refused, nothing changes
    let (status, body) = publish(0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = api.json("PUT", &published, r#"{"version": 1e30}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(start(json!({"a": 1, "b": 2})).await, 1);
    // unpublished: a start without a version runs the latest (the draft is refused)
    let (status, _) = unpublish().await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api
        .json(
            "POST",
            &format!("/api/v1/workflows/{id}/runs"),
            json!({"input": {}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = unpublish().await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // both changes are in the audit trail with who made them
    let mut conn = api.db.acquire().await.unwrap();
    let mut events: Vec<(String, Value)> =
        app::store::audit::list(&mut conn, Some(&format!("workflow:{id}")), 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action.contains("publish"))
            .map(|e| (e.action, e.details))
            .collect();
    events.reverse();
    assert_eq!(
        events,
        vec![
            (
                "workflow.published".to_string(),
                json!({"version": 1, "before": null})
            ),
            ("workflow.unpublished".to_string(), json!({"version": 1})),
        ]
    );
}

#[tokio::test]
async fn every_operation_in_the_openapi_document_is_served_and_the_document_is_public() {
    let api = Api::new().await;
    // the document itself needs no token
    let res = api
        .send_as_is(
            Request::get("/api/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.0, StatusCode::OK);
    let doc = res.1;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut walked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let path = template
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let mut req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&path);
            if op.get("requestBody").is_some() {
                req = req.header(header::CONTENT_TYPE, "application/json");
            }
            let body = if op.get("requestBody").is_some() {
                "{}"
            } else {
                ""
            };
            let (status, answer, headers) = api.send(req.body(Body::from(body)).unwrap()).await;
            // answered by its own handler: not "no such route", not "wrong method"
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {template}"
            );
            assert!(
                !answer.to_string().contains("no such API route"),
                "{method} {template} is described but not served: {answer}"
            );
            let media = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(
                status == StatusCode::NO_CONTENT || !media.starts_with("text/html"),
                "{method} {template} fell through to a page"
            );
            walked += 1;
        }
    }
    assert!(walked >= 33, "{walked} operations");
}
