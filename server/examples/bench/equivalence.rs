//! `hot-path-equivalence`: the engine's fast path (pure stretches
//! evaluated ahead in one sandbox round trip and recorded in the completing
//! transaction) against the simple path (`--simple-engine`: every step
//! claimed and run on its own), on `linear-20` and `fanout-10` with the same
//! inputs. Each run's status and output, its steps' final rows, its step
//! log and its audit events must be the same on both; only ids (the run's,
//! the workflow's, the token's), times and the worker differ. Prints one line and stops the bench on a difference.

use super::*;
use app::store::conn::query_as;
use std::collections::BTreeMap;

const RUNS: usize = 200;

/// What a run left behind, with its own id written as `RUN`, keyed by its
/// input's `n`.
type Record = BTreeMap<i64, Value>;

pub async fn compare(bin: &str) -> Value {
    let mut compared = 0;
    let mut differences = vec![];
    for (name, def) in [("linear-20", chain(20)), ("fanout-10", fanout(10))] {
        let hot = record(bin, name, def.clone(), &[]).await;
        let simple = record(bin, name, def, &["--simple-engine"]).await;
        assert_eq!(hot.len(), RUNS, "{name}: every run recorded");
        for (n, run) in &hot {
            compared += 1;
            if simple.get(n) != Some(run) {
                differences
                    .push(json!({"workload": name, "n": n, "hot": run, "simple": simple.get(n)}));
            }
        }
    }
    let line = json!({
        "workload": "hot-path-equivalence",
        "runs_compared": compared,
        "identical": differences.is_empty(),
    });
    assert!(
        differences.is_empty(),
        "the fast path and the simple path differ: {}",
        serde_json::to_string_pretty(&differences[..differences.len().min(2)]).unwrap()
    );
    line
}

/// Runs `RUNS` runs of `def` (inputs 0..RUNS, 16 clients) on a new server
/// started with `flags`, and reads back what each left.
async fn record(bin: &str, name: &str, def: Value, flags: &[&str]) -> Record {
    let server = Server::start_with(bin, flags);
    let http = server.client();
    let wf = create(&http, &server.base, name, def, false).await;
    closed_loop(
        &http,
        &server.bases,
        &wf,
        (RUNS, 16),
        super::Ask::StartThenWait,
    )
    .await;
    let db = server.open_db().await;
    let mut conn = db.acquire().await.expect("a connection");
    let runs: Vec<(String, String, String, Option<String>)> =
        query_as("SELECT id, input, status, output FROM runs")
            .fetch_all(&mut conn)
            .await
            .expect("runs");
    // ids that differ between the two servers by construction
    let tokens: Vec<(String,)> = query_as("SELECT id FROM api_tokens")
        .fetch_all(&mut conn)
        .await
        .expect("tokens");
    let mut out = Record::new();
    for (id, input, status, output) in runs {
        let n = serde_json::from_str::<Value>(&input).unwrap()["n"]
            .as_i64()
            .expect("each run's input has n");
        let steps: Vec<StepRow> = query_as(
            "SELECT node_id, status, attempt, port, output, confidence, cum_confidence, error
             FROM steps WHERE run_id = $1 ORDER BY node_id",
        )
        .bind(&id)
        .fetch_all(&mut conn)
        .await
        .expect("steps");
        let attempts: Vec<AttemptRow> = query_as(
            "SELECT node_id, attempt, outcome, input, output, confidence, error, lineage, pass
             FROM step_attempts WHERE run_id = $1 ORDER BY node_id, attempt",
        )
        .bind(&id)
        .fetch_all(&mut conn)
        .await
        .expect("attempts");
        let audit: Vec<(String, String, String)> = query_as(
            "SELECT actor, action, details FROM audit_events WHERE run_id = $1 ORDER BY seq",
        )
        .bind(&id)
        .fetch_all(&mut conn)
        .await
        .expect("audit");
        let left = json!({
            "status": status,
            "output": output,
            "steps": steps.iter().map(|s| json!([s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7])).collect::<Vec<_>>(),
            "attempts": attempts.iter().map(|a| json!([a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7, a.8])).collect::<Vec<_>>(),
            "audit": audit,
        });
        let mut text = left
            .to_string()
            .replace(&id, "RUN")
            .replace(&wf, "WORKFLOW");
        for (token,) in &tokens {
            text = text.replace(token, "TOKEN");
        }
        out.insert(n, serde_json::from_str(&text).unwrap());
    }
    out
}

type StepRow = (
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<String>,
);

type AttemptRow = (
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<String>,
    i64,
);
