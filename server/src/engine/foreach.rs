//! For each steps: the first attempt evaluates the list and hands it to
//! the completion transaction, which stores it and starts the first items
//! (`ops::foreach::fill`) as the step parks; every item run's end starts
//! the next; the list's end wakes the step, whose attempt gathers the
//! results in list order.

use super::runners::{Outcome, sandbox_failure};
use super::{Engine, Result};
use crate::sandbox::{Job, Request};
use app::domain::graph::{ErrorClass, ForEachConfig};
use app::domain::iteration::{LISTED_FAILURES, Tally, verdict};
use app::store::runs;
use serde_json::Value;

/// How long a woken For each whose items still run waits before it looks
/// again (an item's end wakes it sooner).
const RECHECK_MS: i64 = 60_000;

impl Engine {
    pub(super) async fn for_each_step(
        &self,
        run_id: &str,
        node_id: &str,
        cfg: &ForEachConfig,
        ctx: &Value,
        woken: bool,
        now: i64,
    ) -> Result<Outcome> {
        if woken {
            let mut conn = self.db.acquire().await?;
            if let Some(round) = runs::current_round(&mut conn, run_id, node_id).await? {
                let tally = runs::tally(&mut conn, run_id, node_id, round).await?;
                if tally.running > 0 {
                    return Ok(Outcome::Park {
                        until: now.saturating_add(RECHECK_MS),
                    });
                }
                let (failed_only, limit) = if cfg.collect_results {
                    (false, tally.total)
                } else {
                    (true, LISTED_FAILURES as u64)
                };
                let ended =
                    runs::ended_items(&mut conn, run_id, node_id, round, failed_only, 0, limit)
                        .await?;
                return Ok(match verdict(cfg, &tally, &ended) {
                    Ok(output) => Outcome::out(output),
                    Err(message) => Outcome::fail(ErrorClass::Business, message),
                });
            }
        }
        let list = match self
            .sandbox
            .run(&Request::over(ctx, vec![Job::jq(&cfg.items)]))
            .await
        {
            Ok(mut r) => match r.pop() {
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    return Ok(Outcome::fail(
                        ErrorClass::Format,
                        format!("the items expression failed: {e}"),
                    ));
                }
                None => Value::Null,
            },
            Err(e) => return Ok(sandbox_failure(e)),
        };
        let Value::Array(items) = list else {
            return Ok(Outcome::fail(
                ErrorClass::Format,
                format!(
                    "the items expression gave {}, not a list; make it give an array (e.g. .input.lines)",
                    kind_of(&list)
                ),
            ));
        };
        if items.len() > cfg.max_items() {
            let hint = if cfg.collect_results {
                "; turn off gathering the results to take up to 100000"
            } else {
                ""
            };
            return Ok(Outcome::fail(
                ErrorClass::Format,
                format!(
                    "the list has {} items, more than the {} a For each takes{hint}",
                    items.len(),
                    cfg.max_items()
                ),
            ));
        }
        if items.is_empty() {
            let out = verdict(cfg, &Tally::default(), &[]).unwrap_or(Value::Null);
            return Ok(Outcome::out(out));
        }
        Ok(Outcome::Iterate { items })
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
