//! The "Support ticket triage" example through the real binary with
//! `--demo`: seeded with its model connection, a clear refund runs to the
//! reply's approval through the refund call, a doubtful ticket waits for
//! a person with the model's reason and lineage, a billing question is
//! routed at once, and the labelled-example export carries the lineage.

use crate::common::Server;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

struct Api {
    server: Server,
    http: reqwest::Client,
    admin: String,
    approver: String,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), self.server.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Waits (up to 20 s) until run `id` is in one of `statuses` (a run
    /// whose step waits for a person is `waiting:<step>`).
    async fn run_until(&self, id: &str, statuses: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, run) = self
                .call("GET", &format!("/api/v1/runs/{id}"), &self.admin, None)
                .await;
            let waiting = run["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["status"] == "waiting")
                .map(|s| format!("waiting:{}", s["node_id"].as_str().unwrap_or("")));
            let status =
                waiting.unwrap_or_else(|| run["status"].as_str().unwrap_or("").to_string());
            if statuses.contains(&status.as_str()) {
                return run;
            }
            assert_ne!(run["status"], "failed", "{run}");
            assert!(
                Instant::now() < deadline,
                "run {id} stayed {}: {}",
                run["status"],
                run["steps"]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn start(&self, workflow: &str, input: Value) -> String {
        let (status, run) = self
            .call(
                "POST",
                &format!("/api/v1/workflows/{workflow}/runs"),
                &self.admin,
                Some(json!({"input": input})),
            )
            .await;
        assert_eq!(status, 202, "{run}");
        run["run_id"].as_str().unwrap().to_string()
    }
}

fn step<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["node_id"] == id)
        .unwrap()
}

#[tokio::test]
async fn the_triage_example_runs_on_the_demo_model_from_a_fresh_install() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::common::fresh_db_url(dir.path(), "t.db").await;
    let admin = Server::admin_token(&db);
    let approver = Server::cli(
        &[
            "token",
            "create",
            "--name",
            "ann",
            "--role",
            "approver",
            "--database-url",
            &db,
        ],
        &[],
    );
    let server = Server::start(&db, &["--demo"]);
    let api = Api {
        server,
        http: reqwest::Client::new(),
        admin,
        approver,
    };
    let (_, list) = api.call("GET", "/api/v1/workflows", &api.admin, None).await;
    let triage = list["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "Support ticket triage")
        .expect("the triage example is seeded")["id"]
        .as_str()
        .unwrap()
        .to_string();

    // a clear refund: classified surely, refunded, a reply drafted for approval
    let refund = api
        .start(
            &triage,
            json!({"subject": "Refund please", "body": "Please refund my money, the blender broke.", "customer_email": "ana@example.com", "order_id": "A-17"}),
        )
        .await;
    let run = api.run_until(&refund, &["waiting:review"]).await;
    let t = step(&run, "triage");
    assert_eq!(
        (t["port"].clone(), t["output"]["method"].clone()),
        (json!("refund"), json!("label_logprobs"))
    );
    assert!(t["confidence"].as_f64().unwrap() > 0.9, "{t}");
    let entry = step(&run, "refund")["output"]["body"]["entry_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        entry.starts_with("demo-"),
        "the refund went out with an idempotency key: {entry}"
    );
    assert!(
        run["usage"]["tokens_in"].as_i64().unwrap() > 0,
        "{}",
        run["usage"]
    );
    assert!(run["usage"]["cost"].as_f64().unwrap() > 0.0);
    let (_, inbox) = api
        .call("GET", "/api/v1/approvals", &api.approver, None)
        .await;
    let review = inbox["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["run_id"] == refund.as_str())
        .unwrap()
        .clone();
    assert_eq!(review["node_id"], "review");
    assert!(
        review["proposed"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Dear customer")
    );
    assert_eq!(
        review["context"]["lineage"]["draft"]["model"],
        "stepwise-demo"
    );
    let (status, _) = api
        .call(
            "POST",
            &format!(
                "/api/v1/approvals/{}/decision",
                review["id"].as_str().unwrap()
            ),
            &api.approver,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(status, 200);
    let done = api.run_until(&refund, &["succeeded"]).await;
    assert_eq!(done["output"]["team"], "refunds");
    assert_eq!(done["output"]["refund"], entry.as_str());

    // a ticket that fits two labels waits for a person, with the reason
    let doubtful = api
        .start(
            &triage,
            json!({"subject": "Charge", "body": "I want my money back for the invoice charge"}),
        )
        .await;
    api.run_until(&doubtful, &["waiting:triage"]).await;
    let (_, inbox) = api
        .call("GET", "/api/v1/approvals", &api.approver, None)
        .await;
    let gate = inbox["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["run_id"] == doubtful.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (gate["reason"].clone(), gate["node_id"].clone()),
        (json!("confidence"), json!("triage"))
    );
    assert!(
        gate["proposed"]["reason"]
            .as_str()
            .unwrap()
            .contains("mentions"),
        "{}",
        gate["proposed"]
    );
    assert_eq!(gate["context"]["lineage"]["triage"]["connection"], "demo");
    let mut edited = gate["proposed"].clone();
    edited["label"] = json!("billing");
    api.call(
        "POST",
        &format!(
            "/api/v1/approvals/{}/decision",
            gate["id"].as_str().unwrap()
        ),
        &api.approver,
        Some(json!({"decision": "approve", "output": edited})),
    )
    .await;
    let done = api.run_until(&doubtful, &["succeeded"]).await;
    assert_eq!(done["output"], json!({"team": "billing"}));

    // the decisions as labelled examples, with what produced each proposal
    let (status, export) = api
        .call(
            "GET",
            &format!("/api/v1/approvals/export?workflow_id={triage}"),
            &api.admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{export}");
    let lines: Vec<Value> = export
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["lineage"].is_object()), "{lines:?}");
}
