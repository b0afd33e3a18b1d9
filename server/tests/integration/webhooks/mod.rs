//! Webhook triggers against the server's router on a real socket, with
//! the engine's workers running: signatures, tokens, mapping and schema,
//! delivery keys under concurrency, synchronous answers, body limits.

use app::store::Db;
use serde_json::{Value, json};

mod across;
mod auth;
mod deliveries;
use server::hooks::signature::header_value;
use server::routes::router;

pub const LIMIT: usize = 64 * 1024;

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
        let db = crate::common::fresh_db(dir.path()).await;
        let token = crate::common::admin_token(&db).await;
        Stack::serve(db, token, dir).await
    }

    /// A second server on the same database, as another process would be:
    /// its own engine, router and memory, nothing shared but the database.
    pub async fn another(&self) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        Stack::serve(self.db.clone(), self.token.clone(), dir).await
    }

    async fn serve(db: Db, token: String, dir: tempfile::TempDir) -> Stack {
        let engine = crate::common::live_engine(&db);
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        engine.spawn(
            &server::engine::EngineConfig {
                workers: 2,
                ..Default::default()
            },
            stop_rx,
        );
        let state = crate::common::app_state(&db, engine, dir.path());
        let sessions = server::sessions::Sessions::open(&db).await.unwrap();
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
        app::store::conn::query_scalar(sql)
            .fetch_one(&mut self.db.acquire().await.unwrap())
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
