//! Writing the step log: one attempt's row, or several of one transaction
//! in a statement.

use super::Claimed;
use crate::store::Result;
use crate::store::conn::{Arg, Bind, Placeholders};
use serde_json::Value;

pub struct NewAttempt<'a> {
    pub claimed: &'a Claimed,
    pub worker: &'a str,
    pub started_at: i64,
    pub finished_at: i64,
    pub input: Option<&'a Value>,
    pub output: Option<&'a Value>,
    pub outcome: &'a str,
    pub error_class: Option<&'a str>,
    pub error: Option<&'a str>,
    pub confidence: Option<f64>,
    /// Where the output came from (an attempt that produced one).
    pub lineage: Option<&'a crate::domain::lineage::Lineage>,
    /// What an LLM step sent and received.
    pub model_call: Option<&'a crate::domain::llm::ModelCall>,
    /// A Code step's console lines.
    pub console: &'a [String],
}

/// Largest step input kept in the step log, in bytes of JSON: the input is
/// the whole run context, which grows with every step.
pub const MAX_LOGGED_INPUT_BYTES: usize = 1024 * 1024;
/// Longest error message kept, in characters.
pub const MAX_ERROR_CHARS: usize = 8 * 1024;

/// `input` as the step log keeps it: past the cap, a note saying so.
fn logged_input(input: &Value) -> String {
    let text = input.to_string();
    if text.len() <= MAX_LOGGED_INPUT_BYTES {
        return text;
    }
    serde_json::json!({
        "omitted": format!(
            "the step's input was {} KB; inputs over {} KB are not kept in the step log",
            text.len() / 1024,
            MAX_LOGGED_INPUT_BYTES / 1024
        )
    })
    .to_string()
}

/// An error message cut to [`MAX_ERROR_CHARS`].
pub fn capped_error(e: &str) -> std::borrow::Cow<'_, str> {
    if e.chars().count() <= MAX_ERROR_CHARS {
        e.into()
    } else {
        format!(
            "{}… (cut)",
            e.chars().take(MAX_ERROR_CHARS).collect::<String>()
        )
        .into()
    }
}

/// The columns of a step-log row, in the order [`AttemptRow`] holds them
/// (`pass` comes from the step's row as it is when written).
const COLUMNS: &str = "run_id, node_id, attempt, worker, started_at, finished_at, input, output,
     outcome, error_class, error, confidence, lineage, model_call, tokens_in, tokens_out, cost,
     console, seq, pass";

/// Values bound per row (every column but `pass`).
const BOUND: usize = 19;

/// Rows written by one statement at most (well under either backend's
/// limit on parameters).
const ROWS_PER_STATEMENT: usize = 50;

/// One step-log row, its values owned: written at once, or kept to be
/// written with others of the same transaction ([`insert_attempts`]).
/// Its loop pass, when the writer knows it ([`AttemptRow::in_pass`]);
/// otherwise the statement reads it from the step's row.
#[derive(Clone, Debug)]
pub struct AttemptRow(Vec<Arg<'static>>, Option<i64>);

impl AttemptRow {
    /// The row, in the loop pass its step's row is in when written.
    pub fn of(a: &NewAttempt<'_>) -> AttemptRow {
        AttemptRow(
            vec![
                a.claimed.run_id.to_string().arg(),
                a.claimed.node_id.clone().arg(),
                a.claimed.attempt.arg(),
                a.worker.to_string().arg(),
                a.started_at.arg(),
                a.finished_at.arg(),
                a.input.map(logged_input).arg(),
                a.output.map(Value::to_string).arg(),
                a.outcome.to_string().arg(),
                a.error_class.map(str::to_string).arg(),
                a.error.map(|e| capped_error(e).into_owned()).arg(),
                a.confidence.arg(),
                a.lineage.and_then(|l| serde_json::to_string(l).ok()).arg(),
                a.model_call
                    .and_then(|c| serde_json::to_string(c).ok())
                    .arg(),
                a.model_call.map(|c| c.tokens_in as i64).arg(),
                a.model_call.map(|c| c.tokens_out as i64).arg(),
                a.model_call.and_then(|c| c.cost).arg(),
                (!a.console.is_empty())
                    .then(|| Value::from(a.console).to_string())
                    .arg(),
                log_seq().arg(),
            ],
            None,
        )
    }

    /// The row in loop pass `pass` (its step's, known to the writer: the
    /// statement need not read it).
    pub fn in_pass(mut self, pass: Option<i64>) -> AttemptRow {
        self.1 = pass;
        self
    }
}

/// Where a step-log row goes among those started in the same millisecond:
/// the microseconds since the epoch when it was made, or one past the last
/// value this process gave, whichever is larger. So the rows one
/// transaction writes (a run's pure stretch, all started "now") keep the
/// order they were recorded in, and rows of later transactions (here or in
/// another process whose clock agrees) come after them.
pub fn log_seq() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let next = |last: i64| last.saturating_add(1).max(now);
    let last = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| Some(next(l)))
        .expect("the closure always gives a value");
    next(last)
}

pub async fn insert_attempt(conn: &mut crate::store::conn::Conn, a: &NewAttempt<'_>) -> Result<()> {
    insert_attempts(conn, &[AttemptRow::of(a)]).await
}

/// Writes `rows` to the step log, up to [`ROWS_PER_STATEMENT`] per
/// statement.
pub async fn insert_attempts(
    conn: &mut crate::store::conn::Conn,
    rows: &[AttemptRow],
) -> Result<()> {
    for q in attempts_queries(conn.backend(), rows) {
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The statements [`insert_attempts`] sends, to send in a batch.
pub fn attempts_queries(
    backend: crate::store::conn::Backend,
    rows: &[AttemptRow],
) -> Vec<crate::store::conn::Query<'static>> {
    rows.chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            // a chunk whose passes are all known binds them; otherwise each
            // row's pass is read from its step's row (two texts at most)
            let known = chunk.iter().all(|r| r.1.is_some());
            let mut p = Placeholders::for_backend(backend);
            let mut sql = format!("INSERT INTO step_attempts ({COLUMNS}) VALUES ");
            for i in 0..chunk.len() {
                let row: Vec<String> = (0..BOUND).map(|_| p.take()).collect();
                if i > 0 {
                    sql.push_str(", ");
                }
                let pass = match known {
                    true => p.take(),
                    // the step's run and node are bound again for its pass
                    false => format!(
                        "COALESCE((SELECT pass FROM steps WHERE run_id = {} AND node_id = {}), 0)",
                        p.take(),
                        p.take()
                    ),
                };
                sql.push_str(&format!("({}, {pass})", row.join(", ")));
            }
            let mut q = crate::store::conn::query(sql);
            for row in chunk {
                for v in &row.0 {
                    q = q.bind(v.clone());
                }
                q = match (known, row.1) {
                    (true, Some(pass)) => q.bind(pass),
                    _ => q.bind(row.0[0].clone()).bind(row.0[1].clone()),
                };
            }
            q
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::runs::{Activated, Claimed};

    /// A step-log row is written in the pass its writer gives it, or,
    /// when not given, in the pass its step's row is in; a statement
    /// with rows of both kinds reads each row's pass.
    #[tokio::test]
    async fn a_step_log_row_is_in_the_pass_it_is_given_or_else_in_its_steps() {
        let (db, _dir, run) = crate::store::test_started_run().await;
        let mut conn = db.acquire().await.unwrap();
        crate::store::conn::query("UPDATE steps SET pass = 3 WHERE run_id = $1")
            .bind(&run)
            .execute(&mut conn)
            .await
            .unwrap();
        let row = |node: &str, attempt: i64, pass: Option<i64>| {
            let claimed = Claimed::in_transaction(
                &run,
                &Activated {
                    node: node.into(),
                    cum_in: 1.0,
                    attempt,
                },
            );
            let a = NewAttempt {
                claimed: &claimed,
                worker: "w",
                started_at: 1,
                finished_at: 2,
                input: None,
                output: None,
                outcome: "succeeded",
                error_class: None,
                error: None,
                confidence: None,
                lineage: None,
                model_call: None,
                console: &[],
            };
            AttemptRow::of(&a).in_pass(pass)
        };
        let given = [row("start", 1, Some(5)), row("end", 1, Some(6))];
        insert_attempts(&mut conn, &given).await.unwrap();
        let mixed = [row("start", 2, Some(5)), row("end", 2, None)];
        insert_attempts(&mut conn, &mixed).await.unwrap();
        let passes: Vec<(String, i64, i64)> = crate::store::conn::query_as(
            "SELECT node_id, attempt, pass FROM step_attempts ORDER BY attempt, node_id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let want = [
            ("end", 1, 6),
            ("start", 1, 5),
            ("end", 2, 3),
            ("start", 2, 3),
        ];
        let want: Vec<(String, i64, i64)> = want
            .iter()
            .map(|(n, a, p)| (n.to_string(), *a, *p))
            .collect();
        assert_eq!(passes, want);
    }

    #[test]
    fn log_order_values_only_grow_even_within_one_microsecond() {
        let given: Vec<i64> = (0..10_000).map(|_| super::log_seq()).collect();
        assert!(given.windows(2).all(|w| w[0] < w[1]));
        let now_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64;
        // a clock's microseconds, not a count from zero: a later process
        // (after a restart) goes on after this one
        assert!(given[0] > now_us - 60_000_000, "{}", given[0]);
    }
}
