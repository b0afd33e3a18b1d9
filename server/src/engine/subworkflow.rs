//! Sub-workflow steps: the first attempt starts the child run (in the
//! transaction that parks the step; no worker waits), the child's end wakes
//! the step (`ops::progress::end_run`), and the woken attempt ends as the
//! child did.

use super::runners::{ChildStart, Outcome};
use super::{Engine, Result, approval::NEVER};
use crate::sandbox::{Job, Request};
use app::domain::graph::{ErrorClass, Node, NodeKind};
use app::domain::records::RunRecord;
use app::domain::run::RunStatus;
use app::ops::runs;
use serde_json::Value;

/// How many runs may be started by Sub-workflow steps above one another
/// (a workflow that calls itself stops here instead of running forever).
pub const MAX_DEPTH: i64 = 8;

impl Engine {
    pub(super) async fn sub_workflow_step(
        &self,
        run: &RunRecord,
        node: &Node,
        ctx: &Value,
        woken: bool,
    ) -> Result<Outcome> {
        let NodeKind::SubWorkflow {
            workflow_id,
            version,
            input,
        } = &node.kind
        else {
            return Ok(Outcome::fail(
                ErrorClass::Business,
                "not a Sub-workflow step",
            ));
        };
        let mut conn = self.db.acquire().await?;
        if woken
            && let Some((child, status, output, error)) =
                app::store::runs::child_of(&mut conn, &run.id, &node.id).await?
        {
            return Ok(match status {
                RunStatus::Running => Outcome::Park { until: NEVER },
                RunStatus::Succeeded => Outcome::out(output.unwrap_or(Value::Null)),
                RunStatus::Failed | RunStatus::Cancelled => Outcome::fail(
                    ErrorClass::Business,
                    format!(
                        "the child run {child} {status}: {}",
                        error.unwrap_or_else(|| "no reason given".into())
                    ),
                ),
            });
        }
        if app::store::runs::depth(&mut conn, &run.id).await? + 1 >= MAX_DEPTH {
            return Ok(Outcome::fail(
                ErrorClass::Business,
                format!(
                    "sub-workflows are nested {MAX_DEPTH} deep here: does a workflow call itself?"
                ),
            ));
        }
        drop(conn);
        let version = match version {
            Some(v) => Some(*v),
            None => match app::ops::workflows::published(&self.db, workflow_id).await {
                Ok(Some(v)) => Some(v),
                Ok(None) => {
                    return Ok(Outcome::fail(
                        ErrorClass::Business,
                        format!(
                            "workflow {workflow_id} has no published version to run; publish one or name a version"
                        ),
                    ));
                }
                Err(e) => return Ok(Outcome::fail(ErrorClass::Business, e.message)),
            },
        };
        let runnable = match runs::runnable(&self.db, workflow_id, version).await {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::fail(ErrorClass::Business, e.message)),
        };
        let input = match input {
            None => ctx["input"].clone(),
            Some(code) => {
                let results = self
                    .sandbox
                    .run(&Request::over(ctx, vec![Job::jq(code)]))
                    .await;
                match results.map(|r| r.into_iter().next()) {
                    Ok(Some(Ok(v))) => v,
                    Ok(Some(Err(e))) => {
                        return Ok(Outcome::fail(
                            ErrorClass::Format,
                            format!("the input mapping failed: {e}"),
                        ));
                    }
                    Ok(None) => Value::Null,
                    // past a bound (time, memory): the mapping must change
                    Err(crate::sandbox::SandboxError::Limit(m)) => {
                        return Ok(Outcome::fail(
                            ErrorClass::Format,
                            format!("the input mapping failed: {m}"),
                        ));
                    }
                    Err(crate::sandbox::SandboxError::Unavailable(m)) => {
                        return Ok(Outcome::fail(
                            ErrorClass::Transient,
                            format!("the input mapping could not run: {m}"),
                        ));
                    }
                }
            }
        };
        if let Err(e) = runs::check_input(&runnable.def, &input) {
            return Ok(Outcome::fail(ErrorClass::Format, e.message));
        }
        Ok(Outcome::Spawn {
            child: Box::new(ChildStart {
                runnable,
                input,
                started_by: run.started_by.clone(),
            }),
        })
    }
}
