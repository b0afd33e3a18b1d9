//! For each item runs: started in list order up to the step's concurrency,
//! stopped past the step's tolerance, and the step woken when its list is
//! done. Runs in the transaction that stored the list and in the one that
//! ended each item run, so no item is started twice or forgotten.

use crate::domain::audit::Actor;
use crate::domain::graph::NodeKind;
use crate::domain::ids::RunId;
use crate::domain::iteration::{self, Next};
use crate::domain::records::ItemPlace;
use crate::domain::run::RunStatus;
use crate::ops::runs::{Runnable, Via, start_in};
use crate::store::runs::{self, RunEnd};
use crate::store::{Result, StoreError, workflows};

/// Moves the list that For each `node` of run `run_id` took in attempt
/// `round` along: starts the next items while the step's concurrency
/// allows, or (past its tolerance) cancels the running ones, and wakes
/// the step once nothing runs. Does nothing once the run has ended.
pub async fn fill(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node: &str,
    round: i64,
    now: i64,
) -> Result<()> {
    let run = runs::get_run(conn, run_id).await?;
    if run.status != RunStatus::Running {
        return Ok(());
    }
    let whole = workflows::definition(conn, &run.workflow_id, run.version).await?;
    let Some(NodeKind::ForEach(cfg)) = whole.node(node).map(|n| n.kind.clone()) else {
        return Err(StoreError::Corrupt(format!(
            "run {run_id} has items of '{node}', which is not a For each step"
        )));
    };
    let runnable = Runnable {
        workflow_id: run.workflow_id.clone(),
        version: run.version,
        def: whole,
    };
    loop {
        let tally = runs::tally(conn, run_id, node, round).await?;
        match iteration::next(&cfg, &tally) {
            Next::Start(index) => {
                let item = runs::item_at(conn, run_id, node, round, index)
                    .await?
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "item {index} of '{node}' in run {run_id} is missing"
                        ))
                    })?;
                let place = ItemPlace {
                    index: index as i64,
                    round,
                    path: match &run.item {
                        Some(outer) => format!("{}.{index}", outer.path),
                        None => index.to_string(),
                    },
                    root: run
                        .item
                        .as_ref()
                        .map_or_else(|| run_id.to_string(), |outer| outer.root.clone()),
                };
                start_in(
                    conn,
                    &Actor(run.started_by.clone()),
                    &runnable,
                    &item,
                    Via::Item(run_id.as_str(), node, &place),
                    now,
                )
                .await?;
            }
            Next::Stop => {
                let why = format!(
                    "{} items of '{node}' failed, more than tolerated; the rest were cancelled",
                    tally.failures()
                );
                for item in runs::running_items(conn, run_id, node, round).await? {
                    let end = RunEnd::failed(RunStatus::Cancelled, why.clone());
                    Box::pin(super::progress::end_run_quietly(
                        conn, &item, &end, "engine", now,
                    ))
                    .await?;
                }
                crate::store::approvals::wake_step(conn, run_id, node, now).await?;
                return Ok(());
            }
            Next::Done => {
                crate::store::approvals::wake_step(conn, run_id, node, now).await?;
                return Ok(());
            }
            Next::Wait => return Ok(()),
        }
    }
}
