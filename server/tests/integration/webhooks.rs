//! Webhook triggers against the server's router on a real socket, with
//! the engine's workers running: signatures, tokens, mapping and schema,
//! delivery keys under concurrency, synchronous answers, body limits.

use app::store::{Db, Durability};
use leptos::config::LeptosOptions;
use serde_json::{Value, json};
use server::hooks::signature::header_value;
use server::routes::{AppState, router};
use std::sync::Arc;

const LIMIT: usize = 64 * 1024;

pub struct Stack {
    pub base: String,
    pub db: Db,
    pub token: String,
    pub http: reqwest::Client,
    _stop: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Stack {
    pub async fn new() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hooks.db").display());
        let db = Db::connect(&url, Durability::Normal).await.unwrap();
        db.migrate().await.unwrap();
        let engine = Arc::new(crate::common::engine(
            db.clone(),
            Arc::new(server::engine::SystemClock),
            60_000,
        ));
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        engine.spawn(
            &server::engine::EngineConfig {
                workers: 2,
                ..Default::default()
            },
            stop_rx,
        );
        let token = app::ops::accounts::create_token(
            &db,
            "tests",
            "tests",
            app::domain::auth::Role::Admin,
            1,
        )
        .await
        .unwrap()
        .secret;
        let state = AppState {
            db: db.clone(),
            leptos_options: LeptosOptions::builder()
                .output_name("stepwise")
                .site_root(dir.path().to_string_lossy().to_string())
                .build(),
            engine,
            sealer: app::security::Sealer::new([7; 32]),
            secure_cookies: false,
            demo: false,
            hashes: Default::default(),
            recent: Default::default(),
        };
        let sessions = server::routes::session_store(&db).await.unwrap();
        let app = router(state, sessions, LIMIT);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Stack {
            base,
            db,
            token,
            http: reqwest::Client::new(),
            _stop: stop,
            _dir: dir,
        }
    }

    /// A REST call with the test's token: (status, JSON body).
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let media = content_type(&res);
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        crate::common::openapi::check(method, path, status, &media, &body);
        (status, body)
    }

    /// A workflow from `def`, published (unless `publish` is false).
    pub async fn workflow(&self, def: Value, publish: bool) -> String {
        let (s, w) = self
            .api(
                "POST",
                "/api/v1/workflows",
                Some(json!({"name": format!("wf {}", fastrand::u64(..)), "definition": def})),
            )
            .await;
        assert_eq!(s, 201, "{w}");
        let id = w["workflow_id"].as_str().unwrap().to_string();
        if publish {
            let (s, b) = self
                .api(
                    "PUT",
                    &format!("/api/v1/workflows/{id}/published"),
                    Some(json!({"version": 1})),
                )
                .await;
            assert_eq!(s, 200, "{b}");
        }
        id
    }

    /// Adds a webhook: (its path, its secret).
    pub async fn hook(&self, workflow: &str, spec: Value) -> (String, String, String) {
        let mut body = json!({"name": "hook", "kind": "webhook"});
        body.as_object_mut()
            .unwrap()
            .extend(spec.as_object().unwrap().clone());
        let (s, b) = self
            .api(
                "POST",
                &format!("/api/v1/workflows/{workflow}/triggers"),
                Some(body),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        (
            b["trigger"]["url_path"].as_str().unwrap().to_string(),
            b["secret"].as_str().unwrap().to_string(),
            b["trigger"]["id"].as_str().unwrap().to_string(),
        )
    }

    /// POSTs `body` to the webhook, signed with `key` at `t` (unix seconds;
    /// now if None), with extra headers.
    pub async fn deliver(
        &self,
        path: &str,
        key: &str,
        t: Option<i64>,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let t = t.unwrap_or_else(|| app::ops::now_ms() / 1000);
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header(
                "x-stepwise-signature",
                header_value(key, t, body.as_bytes()),
            )
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let media = content_type(&res);
        let body = res.json().await.unwrap_or(Value::Null);
        crate::common::openapi::check("POST", path, status, &media, &body);
        (status, body)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub fn three_steps() -> Value {
    json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start", "input_schema": {
                "type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}},
            {"id": "double", "name": "Double", "type": "transform", "expression": "{amount: (.input.amount * 2)}"},
            {"id": "end", "name": "End", "type": "end", "output": ".steps.double.output"}
        ],
        "edges": [{"from": "start", "to": "double"}, {"from": "double", "to": "end"}]
    })
}

#[tokio::test]
async fn a_signed_delivery_starts_the_published_version_and_a_bad_one_stores_nothing() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, id) = st.hook(&wf, json!({})).await;
    assert_eq!(path, format!("/hooks/{id}"));
    let (s, b) = st
        .deliver(&path, &key, None, r#"{"amount": 21}"#, &[])
        .await;
    assert_eq!(s, 202, "{b}");
    let run_id = b["run_id"].as_str().unwrap();
    assert_eq!(b["status_url"], format!("/api/v1/runs/{run_id}"));
    let (_, run) = st
        .api("GET", &format!("/api/v1/runs/{run_id}?wait_ms=10000"), None)
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], json!({"amount": 42}));
    assert_eq!(run["origin"], "webhook");
    assert_eq!(run["trigger_id"], id);
    assert_eq!(run["started_by"], format!("trigger:{id}"));

    let runs_before = st.count("SELECT COUNT(*) FROM runs").await;
    let events_before = st.count("SELECT COUNT(*) FROM trigger_events").await;
    let now = app::ops::now_ms() / 1000;
    // wrong key, expired, from the future, unsigned
    let (s, b) = st
        .deliver(&path, "whsec_wrong", None, r#"{"amount": 1}"#, &[])
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{b}"
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match")
    );
    let (s, b) = st
        .deliver(&path, &key, Some(now - 6 * 60), r#"{"amount": 1}"#, &[])
        .await;
    assert_eq!(s, 401);
    assert!(
        b["error"]["message"].as_str().unwrap().contains("behind"),
        "{b}"
    );
    let (s, _) = st
        .deliver(&path, &key, Some(now + 6 * 60), r#"{"amount": 1}"#, &[])
        .await;
    assert_eq!(s, 401);
    let res = st
        .http
        .post(format!("{}{path}", st.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // an API token is not a webhook's key
    let res = st
        .http
        .post(format!("{}{path}", st.base))
        .bearer_auth(&st.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, runs_before);
    assert_eq!(
        st.count("SELECT COUNT(*) FROM trigger_events").await,
        events_before
    );
    // the panel shows the refusals, kept in memory
    let (_, t) = st.api("GET", &format!("/api/v1/triggers/{id}"), None).await;
    let refused: Vec<_> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "refused")
        .collect();
    assert_eq!(refused.len(), 5, "{t}");
}

#[tokio::test]
async fn a_replayed_signed_request_returns_the_first_run_and_a_rotated_key_works_alongside_the_old()
{
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, old, id) = st.hook(&wf, json!({})).await;
    let t = app::ops::now_ms() / 1000;
    let (s1, first) = st
        .deliver(&path, &old, Some(t), r#"{"amount": 1}"#, &[])
        .await;
    let (s2, again) = st
        .deliver(&path, &old, Some(t), r#"{"amount": 1}"#, &[])
        .await;
    assert_eq!((s1, s2), (202, 200), "{again}");
    assert_eq!(again["run_id"], first["run_id"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 1);
    // rotate: both keys work until the old one is retired
    let (s, rotated) = st
        .api("POST", &format!("/api/v1/triggers/{id}/keys"), None)
        .await;
    assert_eq!(s, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_eq!(rotated["trigger"]["rotating"], true);
    assert_eq!(
        st.deliver(&path, &new, None, r#"{"amount": 2}"#, &[])
            .await
            .0,
        202
    );
    assert_eq!(
        st.deliver(&path, &old, None, r#"{"amount": 3}"#, &[])
            .await
            .0,
        202
    );
    let (s, _) = st
        .api(
            "DELETE",
            &format!("/api/v1/triggers/{id}/keys/previous"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        st.deliver(&path, &old, None, r#"{"amount": 4}"#, &[])
            .await
            .0,
        401
    );
    assert_eq!(
        st.deliver(&path, &new, None, r#"{"amount": 5}"#, &[])
            .await
            .0,
        202
    );
    // the secret is never shown again
    let (_, t) = st.api("GET", &format!("/api/v1/triggers/{id}"), None).await;
    assert!(
        !t.to_string().contains(&new) && !t.to_string().contains("secret"),
        "{t}"
    );
}

#[tokio::test]
async fn token_auth_accepts_the_token_in_its_header_only() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, token, _) = st.hook(&wf, json!({"auth": {"type": "token"}})).await;
    let post = |h: Option<(&'static str, String)>| {
        let mut r = st
            .http
            .post(format!("{}{path}", st.base))
            .body(r#"{"amount": 1}"#);
        if let Some((k, v)) = h {
            r = r.header(k, v);
        }
        r.send()
    };
    assert_eq!(
        post(Some(("x-stepwise-token", token.clone())))
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(
        post(Some(("x-stepwise-token", format!("{token}x"))))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(Some(("x-other", token.clone())))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(post(None).await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_mapping_shapes_the_input_and_schema_errors_name_the_field_and_store_nothing() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let spec = json!({"headers": ["x-source"], "mapping": "{amount: (.body.total | tonumber), source: .headers[\"x-source\"], q: .query.ref}"});
    let (path, key, _) = st.hook(&wf, spec).await;
    let (s, b) = st
        .deliver(
            &format!("{path}?ref=abc"),
            &key,
            None,
            r#"{"total": "7"}"#,
            &[("x-source", "erp")],
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let (_, run) = st
        .api(
            "GET",
            &format!("/api/v1/runs/{}", b["run_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        run["input"],
        json!({"amount": 7, "source": "erp", "q": "abc"})
    );
    let before = st.count("SELECT COUNT(*) FROM runs").await;
    // the mapping fails
    let (s, b) = st
        .deliver(&path, &key, None, r#"{"total": "seven"}"#, &[])
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the mapping failed"),
        "{b}"
    );
    // the input misses a field the Start schema requires
    let wf2 = st.workflow(three_steps(), true).await;
    let (path2, key2, _) = st.hook(&wf2, json!({})).await;
    let (s, b) = st
        .deliver(&path2, &key2, None, r#"{"amont": 1}"#, &[])
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("amount"),
        "{b}"
    );
    // not JSON
    let (s, b) = st.deliver(&path2, &key2, None, "amount=1", &[]).await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, before);
}

#[tokio::test]
async fn a_hundred_concurrent_deliveries_with_ten_keys_start_exactly_ten_runs() {
    let st = Arc::new(Stack::new().await);
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, _) = st.hook(&wf, json!({})).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let (st, path, key) = (st.clone(), path.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let k = format!("invoice-{}", i % 10);
            // each sender signs its own request (different timestamps are fine)
            let body = format!(r#"{{"amount": {}}}"#, i % 10);
            let (s, b) = st
                .deliver(&path, &key, None, &body, &[("idempotency-key", &k)])
                .await;
            (k, s, b["run_id"].as_str().unwrap_or_default().to_string())
        }));
    }
    let mut by_key: std::collections::HashMap<String, std::collections::HashSet<String>> =
        Default::default();
    for t in tasks {
        let (k, s, run) = t.await.unwrap();
        assert!(s == 202 || s == 200, "{s}");
        by_key.entry(k).or_default().insert(run);
    }
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 10);
    assert_eq!(by_key.len(), 10);
    assert!(by_key.values().all(|runs| runs.len() == 1), "{by_key:?}");
}

#[tokio::test]
async fn a_delivery_key_from_a_jq_path_dedups_across_different_bodies() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, _) = st.hook(&wf, json!({"dedup": {"path": ".body.id"}})).await;
    let (_, a) = st
        .deliver(&path, &key, None, r#"{"id": "inv-1", "amount": 1}"#, &[])
        .await;
    let (s, b) = st
        .deliver(&path, &key, None, r#"{"id": "inv-1", "amount": 2}"#, &[])
        .await;
    assert_eq!(s, 200);
    assert_eq!(a["run_id"], b["run_id"]);
    let (s, _) = st
        .deliver(&path, &key, None, r#"{"id": "inv-2", "amount": 2}"#, &[])
        .await;
    assert_eq!(s, 202);
}

#[tokio::test]
async fn synchronous_mode_answers_with_the_output_or_falls_back_to_202() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, _) = st.hook(&wf, json!({"response": {"mode": "sync"}})).await;
    let (s, b) = st.deliver(&path, &key, None, r#"{"amount": 4}"#, &[]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["status"].as_str(), &b["output"]),
        (Some("succeeded"), &json!({"amount": 8}))
    );
    // a run that waits for a person answers at once, saying so
    let approval = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "ok", "name": "OK", "type": "approval", "title": "OK?", "approvers": {"roles": ["admin"]}},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "end"}]
    });
    let wf = st.workflow(approval, true).await;
    let (path, key, _) = st
        .hook(
            &wf,
            json!({"response": {"mode": "sync", "timeout_ms": 20000}}),
        )
        .await;
    let started = std::time::Instant::now();
    let (s, b) = st.deliver(&path, &key, None, "{}", &[]).await;
    assert_eq!(
        (s, b["status"].as_str()),
        (202, Some("waiting_for_people")),
        "{b}"
    );
    assert!(started.elapsed().as_millis() < 10_000);
    // a run longer than the timeout: 202 with where to look
    let slow = json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            {"id": "wait", "name": "Wait", "type": "delay", "duration_ms": 3000},
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "end"}]
    });
    let wf = st.workflow(slow, true).await;
    let (path, key, _) = st
        .hook(
            &wf,
            json!({"response": {"mode": "sync", "timeout_ms": 300}}),
        )
        .await;
    let (s, b) = st.deliver(&path, &key, None, "{}", &[]).await;
    assert_eq!((s, b["status"].as_str()), (202, Some("running")), "{b}");
    assert!(b["message"].as_str().unwrap().contains("300 ms"));
}

#[tokio::test]
async fn without_a_published_version_a_paused_hook_or_an_oversized_body_nothing_runs() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), false).await;
    let (path, key, id) = st.hook(&wf, json!({"path": "invoices/incoming"})).await;
    assert_eq!(path, "/hooks/invoices/incoming");
    let (s, b) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[]).await;
    assert_eq!(s, 409, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no published version")
    );
    st.api(
        "PUT",
        &format!("/api/v1/workflows/{wf}/published"),
        Some(json!({"version": 1})),
    )
    .await;
    st.api("POST", &format!("/api/v1/triggers/{id}/pause"), None)
        .await;
    assert_eq!(
        st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[])
            .await
            .0,
        503
    );
    st.api("POST", &format!("/api/v1/triggers/{id}/resume"), None)
        .await;
    let big = format!(r#"{{"amount": 1, "pad": "{}"}}"#, "x".repeat(LIMIT));
    let (s, _) = st.deliver(&path, &key, None, &big, &[]).await;
    assert_eq!(s, 413);
    assert_eq!(
        st.deliver("/hooks/nothing-here", &key, None, "{}", &[])
            .await
            .0,
        404
    );
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 0);
    assert_eq!(
        st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[])
            .await
            .0,
        202
    );
    // another webhook cannot take the same path
    let (s, b) = st
        .api(
            "POST",
            &format!("/api/v1/workflows/{wf}/triggers"),
            Some(json!({"name": "x", "kind": "webhook", "path": "invoices/incoming"})),
        )
        .await;
    assert_eq!(s, 409, "{b}");
}

#[tokio::test]
async fn listening_for_a_test_event_captures_the_next_delivery_without_a_run() {
    let st = Arc::new(Stack::new().await);
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, id) = st.hook(&wf, json!({"mapping": "{amount: .body.n}"})).await;
    let listener = {
        let st = st.clone();
        tokio::spawn(async move {
            st.api(
                "POST",
                &format!("/api/v1/triggers/{id}/test-event?wait_ms=10000"),
                None,
            )
            .await
        })
    };
    // wait until the listener is registered
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (s, b) = st.deliver(&path, &key, None, r#"{"n": 5}"#, &[]).await;
    assert_eq!((s, b["test_event"].as_bool()), (200, Some(true)), "{b}");
    let (s, event) = listener.await.unwrap();
    assert_eq!(s, 200);
    assert_eq!(event["request"]["body"], json!({"n": 5}));
    assert_eq!(event["input"], json!({"amount": 5}));
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 0);
    // nobody listening: the next one runs
    assert_eq!(
        st.deliver(&path, &key, None, r#"{"n": 5}"#, &[]).await.0,
        202
    );
}

#[tokio::test]
async fn a_hostile_mapping_or_key_path_is_stopped_and_stores_nothing() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    // a mapping that never ends, and one that builds a huge value
    for mapping in ["def f: f; f", "[range(100000000)] | length | {amount: .}"] {
        let (path, key, _) = st.hook(&wf, json!({"mapping": mapping})).await;
        let started = std::time::Instant::now();
        let (s, b) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[]).await;
        assert_eq!(s, 422, "{mapping}: {b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("the mapping failed"),
            "{b}"
        );
        assert!(
            started.elapsed().as_secs() < 20,
            "{mapping} took {:?}",
            started.elapsed()
        );
    }
    let (path, key, _) = st.hook(&wf, json!({"dedup": {"path": "[.body]"}})).await;
    let (s, b) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &[]).await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a string or number"),
        "{b}"
    );
    // a key longer than 500 characters
    let (path, key, _) = st.hook(&wf, json!({})).await;
    let long = "k".repeat(600);
    let (s, _) = st
        .deliver(
            &path,
            &key,
            None,
            r#"{"amount": 1}"#,
            &[("idempotency-key", &long)],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 0);
    assert_eq!(st.count("SELECT COUNT(*) FROM trigger_events").await, 0);
}

#[tokio::test]
async fn a_key_older_than_its_retention_window_starts_a_new_run_and_duplicates_are_listed() {
    let st = Stack::new().await;
    let wf = st.workflow(three_steps(), true).await;
    let (path, key, id) = st
        .hook(&wf, json!({"dedup": {"retention_ms": 60000}}))
        .await;
    let k = [("idempotency-key", "inv-9")];
    let (_, first) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &k).await;
    let (s, again) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &k).await;
    assert_eq!((s, &again["run_id"]), (200, &first["run_id"]));
    let (_, t) = st.api("GET", &format!("/api/v1/triggers/{id}"), None).await;
    let outcomes: Vec<&str> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["duplicate", "started"], "{t}");
    // the first delivery is now two minutes old: outside its minute
    sqlx::query("UPDATE trigger_events SET at = at - 120000")
        .execute(&st.db.pool)
        .await
        .unwrap();
    let (s, later) = st.deliver(&path, &key, None, r#"{"amount": 1}"#, &k).await;
    assert_eq!(s, 202, "{later}");
    assert_ne!(later["run_id"], first["run_id"]);
    assert_eq!(st.count("SELECT COUNT(*) FROM runs").await, 2);
}
