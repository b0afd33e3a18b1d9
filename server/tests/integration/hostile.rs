//! Hostile and careless workflows against the real server: each case is
//! refused with a clear 4xx, or its run fails with a message naming what
//! went wrong, while the server keeps answering within a second; no answer
//! is a 5xx, and no secret reaches an answer or the database file.

use crate::common::Server;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "pa ssé-HOSTILE-7731";
const KEY_HEX: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

/// A receiver on loopback: `/echo` answers with what it got, `/redirect`
/// sends the caller to `?to=`, `/big` streams 6 MB. It records every
/// request's headers.
async fn receiver() -> (u16, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    let record = move |headers: &HeaderMap| {
        s.lock().unwrap().push(format!("{headers:?}"));
    };
    let r1 = record.clone();
    let r2 = record.clone();
    let app = axum::Router::new()
        .route(
            "/echo",
            axum::routing::any(move |headers: HeaderMap, body: String| {
                r1(&headers);
                async move { axum::Json(json!({"body": body})) }
            }),
        )
        .route(
            "/redirect",
            axum::routing::any(
                move |headers: HeaderMap, q: axum::extract::Query<Vec<(String, String)>>| {
                    r2(&headers);
                    let to = q.0.iter().find(|(k, _)| k == "to").map(|(_, v)| v.clone());
                    async move {
                        (
                            axum::http::StatusCode::TEMPORARY_REDIRECT,
                            [("location", to.unwrap_or_default())],
                        )
                    }
                },
            ),
        )
        .route(
            "/big",
            axum::routing::get(|| async { "x".repeat(6 * 1024 * 1024) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
}

struct Hostile {
    server: Server,
    http: reqwest::Client,
    /// Every answer the server gave, for the leak check at the end.
    answers: Mutex<Vec<String>>,
}

impl Hostile {
    async fn call(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert!(status < 500, "a 5xx answer: {status} {text}");
        self.answers.lock().unwrap().push(text.clone());
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn create(&self, def: Value) -> (u16, Value) {
        let name = format!("hostile {}", fastrand::u64(..));
        self.call(
            self.http
                .post(self.server.url("/api/v1/workflows"))
                .json(&json!({"name": name, "definition": def})),
        )
        .await
    }

    /// Creates `def` (it must be valid), runs it, waits for the end while
    /// checking the server stays responsive; returns the run.
    async fn run(&self, def: Value) -> Value {
        let (status, created) = self.create(def).await;
        assert_eq!(status, 201, "{created}");
        let wf = created["workflow_id"].as_str().unwrap().to_string();
        let (status, started) = self
            .call(
                self.http
                    .post(self.server.url(&format!("/api/v1/workflows/{wf}/runs")))
                    .json(&json!({"input": {}})),
            )
            .await;
        assert_eq!(status, 202, "{started}");
        let run = started["run_id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.responsive().await;
            let (_, detail) = self
                .call(
                    self.http
                        .get(self.server.url(&format!("/api/v1/runs/{run}"))),
                )
                .await;
            if matches!(detail["status"].as_str(), Some("succeeded" | "failed")) {
                return detail;
            }
            assert!(Instant::now() < deadline, "the run did not end: {detail}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `/healthz` and an authenticated request (which writes the token's
    /// last use) each answer within a second.
    async fn responsive(&self) {
        for path in ["/healthz", "/api/v1/workflows"] {
            let t = Instant::now();
            let res = self
                .http
                .get(self.server.url(path))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path} did not answer within a second: {e}"));
            assert_eq!(res.status(), 200, "{path}");
            assert!(
                t.elapsed() < Duration::from_secs(1),
                "{path} took {:?}",
                t.elapsed()
            );
        }
    }
}

/// start → `node` (id `x`, retried only once for anything) → end
fn flow(mut node: Value) -> Value {
    node["id"] = json!("x");
    node["name"] = json!("X");
    node["retry"] = json!({
        "transient": {"max_attempts": 1},
        "business": {"max_attempts": 1},
        "format": {"max_attempts": 1}
    });
    if node["type"] == "fail" {
        // a Fail step ends its path
        return json!({
            "nodes": [{"id": "start", "name": "Start", "type": "start"}, node],
            "edges": [{"from": "start", "to": "x"}]
        });
    }
    json!({
        "nodes": [
            {"id": "start", "name": "Start", "type": "start"},
            node,
            {"id": "end", "name": "End", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "x"}, {"from": "x", "to": "end"}]
    })
}

fn transform(code: &str) -> Value {
    json!({"type": "transform", "expression": code})
}

fn http(method: &str, url: &str) -> Value {
    json!({"type": "http", "method": method, "url": url})
}

fn step_error(run: &Value) -> String {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["node_id"] == "x")
        .and_then(|s| s["error"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_workflows_are_refused_or_fail_cleanly_and_the_server_keeps_answering() {
    let (recv, _) = receiver().await;
    let (other, other_seen) = receiver().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.db");
    let db_url = format!("sqlite://{}", file.display());
    let token = Server::admin_token(&db_url);
    let env = [
        ("STEPWISE_SECRET_KEY", KEY_HEX),
        ("STEPWISE_SECRET_VALUE", SECRET),
    ];
    Server::cli(
        &[
            "secret",
            "set",
            "--name",
            "K",
            "--hosts",
            &format!("127.0.0.1:{recv},127.0.0.1:{closed}"),
            "--database-url",
            &db_url,
        ],
        &env,
    );
    // the receivers are this machine's intended internal hosts; the
    // server's own port is not
    let allow = format!("127.0.0.1:{recv},127.0.0.1:{other},127.0.0.1:{closed}");
    let server = Server::start_with_env(
        &db_url,
        &[
            "--no-example",
            "--allow-hosts",
            &allow,
            "--max-response-bytes",
            "1048576",
        ],
        &[("STEPWISE_SECRET_KEY", KEY_HEX)],
    );
    let own = server.addr.rsplit(':').next().unwrap().to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let h = Hostile {
        server,
        http: reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap(),
        answers: Mutex::default(),
    };
    h.responsive().await;

    // refused when saved, with a message naming the problem
    let deep =
        |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
    let invalid: Vec<(&str, Value, &str)> = vec![
        (
            "env reads the environment",
            flow(transform("env | {key: .STEPWISE_SECRET_KEY}")),
            "unknown name `env`",
        ),
        (
            "$ENV reads the environment",
            flow(transform("$ENV.STEPWISE_SECRET_KEY")),
            "unknown name",
        ),
        (
            "halt stops the process",
            flow(transform("halt")),
            "unknown name `halt`",
        ),
        (
            "halt_error stops the process",
            flow(transform("halt_error(1)")),
            "unknown name",
        ),
        (
            "input reads more input",
            flow(transform("input")),
            "unknown name `input`",
        ),
        (
            "debug writes to the log",
            flow(transform("debug")),
            "unknown name `debug`",
        ),
        (
            "a branch condition halts",
            json!({
                "nodes": [
                    {"id": "start", "name": "Start", "type": "start"},
                    {"id": "x", "name": "X", "type": "branch", "conditions": [{"label": "yes", "expression": "halt"}]},
                    {"id": "end", "name": "End", "type": "end"}
                ],
                "edges": [{"from": "start", "to": "x"}, {"from": "x", "port": "yes", "to": "end"}, {"from": "x", "port": "default", "to": "end"}]
            }),
            "unknown name `halt`",
        ),
        (
            "1,000 nested parentheses",
            flow(transform(&deep("(", ")", 1000))),
            "nests too deeply",
        ),
        (
            "a chain 1+1+… of 5,000",
            flow(transform(&vec!["1"; 5000].join("+"))),
            "nests too deeply",
        ),
        (
            "60,000 unclosed brackets",
            flow(transform(&"[".repeat(60_000))),
            "nests too deeply",
        ),
        (
            "nested ifs",
            flow(transform(&"if true then ".repeat(2000))),
            "nests too deeply",
        ),
        (
            "nested reduce",
            flow(transform(&"reduce . as $x (".repeat(1000))),
            "nests too deeply",
        ),
        (
            "a template chain",
            flow(
                json!({"type": "fail", "message": format!("{{{{ {} }}}}", vec!["1"; 5000].join("+"))}),
            ),
            "nests too deeply",
        ),
        (
            "a run timeout near i64::MAX",
            {
                let mut d = flow(transform("1"));
                d["settings"] = json!({"run_timeout_ms": 9223372036854775807u64});
                d
            },
            "run_timeout_ms must be 1 to",
        ),
        (
            "a delay of u64::MAX",
            flow(json!({"type": "delay", "duration_ms": 18446744073709551615u64})),
            "duration_ms must be 1 to",
        ),
        (
            "a deadline near i64::MAX",
            flow(
                json!({"type": "approval", "title": "T", "approvers": {"roles": ["approver"]},
            "deadline": {"after_ms": 9223372036854775807u64, "action": "reject"}}),
            ),
            "deadline after_ms must be 1 to",
        ),
        (
            "a retry back-off near i64::MAX",
            {
                let mut d = flow(transform("1"));
                d["nodes"][1]["retry"]["transient"] = json!({"max_attempts": 3, "initial_delay_ms": 9223372036854775807u64, "max_delay_ms": 9223372036854775807u64});
                d
            },
            "max_delay_ms must be 0 to",
        ),
        (
            "a step timeout of u64::MAX",
            {
                let mut d = flow(transform("1"));
                d["nodes"][1]["timeout_ms"] = json!(18446744073709551615u64);
                d
            },
            "timeout_ms must be 1 to",
        ),
        (
            "4 billion approvals",
            flow(
                json!({"type": "approval", "title": "T", "approvers": {"roles": ["approver"]}, "required_approvals": 4294967295u32}),
            ),
            "required_approvals must be 1 to 100",
        ),
        (
            "a node far away",
            {
                let mut d = flow(transform("1"));
                d["nodes"][1]["position"] = json!({"x": 1e300, "y": 0});
                d
            },
            "position x must be between",
        ),
    ];
    for (case, def, expected) in invalid {
        let (status, body) = h.create(def).await;
        assert_eq!(status, 422, "{case}: {body}");
        assert!(body.to_string().contains(expected), "{case}: {body}");
        h.responsive().await;
    }

    // accepted, but the run fails with a message; the server stays up
    let meta = "http://169.254.169.254/latest/meta-data/".to_string();
    let failing: Vec<(&str, Value, &[&str])> = vec![
        (
            "endless recursion",
            flow(transform("def f: f; f")),
            &["ran longer than 1 s"],
        ),
        (
            "a trillion iterations",
            flow(transform("last(range(1e12))")),
            &["ran longer than 1 s"],
        ),
        (
            "a billion-element array",
            flow(transform("[range(1e9)]")),
            &["ran longer than 1 s", "memory"],
        ),
        (
            "a gigabyte string",
            flow(transform("\"x\" * 1000000000")),
            &["needed more than 256 MB of memory", "ran longer than 1 s"],
        ),
        (
            "deep data from fromjson",
            flow(transform("(\"[\" * 100000) | fromjson")),
            &[
                "nested too deeply",
                "fromjson",
                "expected",
                "cannot",
                "ran longer than 1 s",
            ],
        ),
        (
            "deeply nested output",
            flow(transform("reduce range(100000) as $i (null; [.])")),
            &["nests deeper than 128", "nested too deeply", "ran longer"],
        ),
        (
            "a template loop",
            flow(
                json!({"type": "fail", "message": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"}),
            ),
            &["fuel"],
        ),
        (
            "a 10 GB template string",
            {
                let mut n = http("POST", &format!("http://127.0.0.1:{recv}/echo"));
                n["body"] = json!("{{ \"x\" * 10000000000 }}");
                flow(n)
            },
            &["memory", "ran longer", "body:"],
        ),
        (
            "cloud metadata",
            {
                let mut n = http("PUT", &meta);
                n["headers"] = json!({"X-aws-ec2-metadata-token-ttl-seconds": "21600"});
                flow(n)
            },
            &[
                "169.254.169.254 is a link-local address (cloud metadata); add it to the allowed hosts if this is intended",
            ],
        ),
        (
            "the server's own API",
            flow(http(
                "GET",
                &format!("http://127.0.0.1:{own}/api/v1/workflows"),
            )),
            &["127.0.0.1 is a loopback address"],
        ),
        (
            "an IPv4-mapped IPv6 loopback",
            flow(http(
                "GET",
                &format!("http://[::ffff:127.0.0.1]:{own}/healthz"),
            )),
            &["loopback address"],
        ),
        (
            "a decimal IP",
            flow(http("GET", &format!("http://2130706433:{own}/healthz"))),
            &["127.0.0.1 is a loopback address"],
        ),
        (
            "a hex IP",
            flow(http("GET", &format!("http://0x7f.0.0.1:{own}/healthz"))),
            &["127.0.0.1 is a loopback address"],
        ),
        (
            "a name for loopback",
            flow(http("GET", &format!("http://localhost:{own}/healthz"))),
            &["localhost resolves to", "loopback address"],
        ),
        (
            "a private address",
            flow(http("GET", "http://10.0.0.1/")),
            &["10.0.0.1 is a private-network address"],
        ),
        (
            "a redirect to cloud metadata",
            flow(http(
                "GET",
                &format!("http://127.0.0.1:{recv}/redirect?to={meta}"),
            )),
            &["169.254.169.254 is a link-local address"],
        ),
        (
            "a redirect to the server itself",
            flow(http(
                "GET",
                &format!(
                    "http://127.0.0.1:{recv}/redirect?to=http://127.0.0.1:{own}/api/v1/workflows"
                ),
            )),
            &["127.0.0.1 is a loopback address"],
        ),
        (
            "a 6 MB response",
            flow(http("GET", &format!("http://127.0.0.1:{recv}/big"))),
            &["larger than the limit of 1024 KB"],
        ),
        (
            "a secret to a host it does not list",
            {
                let mut n = http("POST", &format!("http://127.0.0.1:{other}/echo"));
                n["headers"] = json!({"Authorization": "Bearer {{ secrets.K }}"});
                flow(n)
            },
            &["the secret K may not be sent to 127.0.0.1"],
        ),
        (
            "a secret in the URL of a call that fails",
            flow(http(
                "GET",
                &format!("http://127.0.0.1:{closed}/?k={{{{ secrets.K }}}}"),
            )),
            &["could not connect: http://127.0.0.1:"],
        ),
        (
            "a secret that does not exist",
            flow(http(
                "GET",
                &format!("http://127.0.0.1:{recv}/echo?k={{{{ secrets.NOPE }}}}"),
            )),
            &["there is no secret named NOPE"],
        ),
    ];
    // after a good step, in one chain: the chain's time runs out, and each
    // step is evaluated again on its own so the right one is told
    let mut chained = flow(transform("def f: f; f"));
    chained["nodes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "good", "name": "Good", "type": "transform", "expression": "{ok: 1}"}));
    chained["edges"] = json!([
        {"from": "start", "to": "good"}, {"from": "good", "to": "x"}, {"from": "x", "to": "end"}
    ]);
    let run = h.run(chained).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert!(step_error(&run).contains("ran longer than 1 s"), "{run}");
    let good = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["node_id"] == "good");
    assert_eq!(good.unwrap()["status"], "succeeded", "{run}");

    for (case, def, expected) in failing {
        let run = h.run(def).await;
        assert_eq!(run["status"], "failed", "{case}: {run}");
        let error = step_error(&run);
        assert!(
            expected.iter().any(|e| error.contains(e)),
            "{case}: the step's error {error:?} names none of {expected:?}"
        );
    }

    // a redirect to another host drops the credentials that carry a secret
    let mut n = http(
        "GET",
        &format!("http://127.0.0.1:{recv}/redirect?to=http://127.0.0.1:{other}/echo"),
    );
    n["headers"] = json!({"Authorization": "Bearer {{ secrets.K }}", "X-Trace": "t-1"});
    let run = h.run(flow(n)).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let got = other_seen.lock().unwrap().join("\n");
    assert!(got.contains("t-1"), "the redirect was followed: {got}");
    assert!(
        !got.contains("HOSTILE") && !got.to_lowercase().contains("authorization"),
        "{got}"
    );

    // the stand-in services are off unless asked for
    let (status, _) = h.call(h.http.post(h.server.url("/demo/flaky"))).await;
    assert_ne!(status, 503, "/demo/flaky is not served without --demo");
    let (status, _) = h
        .call(h.http.post(h.server.url("/demo/ledger/entries")))
        .await;
    assert_ne!(status, 200, "/demo/ledger is not served without --demo");

    h.responsive().await;
    let mut everything = h.answers.lock().unwrap().clone();
    for path in ["/api/v1/runs?limit=100", "/api/v1/audit?format=jsonl"] {
        let (_, body) = h.call(h.http.get(h.server.url(path))).await;
        everything.push(body.to_string());
    }
    h.server.signal("-TERM");
    let (_, log) = h.server.wait();
    everything.push(log);
    for f in [file.clone(), dir.path().join("hostile.db-wal")] {
        if let Ok(bytes) = std::fs::read(&f) {
            everything.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    let encoded = "pa%20ss%C3%A9-HOSTILE";
    for (i, text) in everything.iter().enumerate() {
        for needle in [SECRET, encoded, "pa+ss%C3%A9", KEY_HEX] {
            assert!(
                !text.contains(needle),
                "{needle} leaked into item {i}: {text}"
            );
        }
    }
}
