//! Re-running a run: the same input, on its version or the latest.

use super::{Via, get_record, parse_run_id, start};
use crate::domain::audit::Actor;
use crate::domain::ids::RunId;
use crate::error::AppError;
use crate::store::Db;

/// Starts a new run with the same input, on the same or the latest version.
pub async fn rerun(
    db: &Db,
    actor: &Actor,
    run_id: &str,
    latest: bool,
    now: i64,
) -> Result<RunId, AppError> {
    let run_id = &parse_run_id(run_id)?;
    let run = get_record(db, run_id).await?;
    if let (Some(item), Some(parent)) = (&run.item, &run.parent_run_id) {
        return Err(AppError::new(
            crate::error::ErrorCode::Conflict,
            format!(
                "this run is item {} of a For each in run {parent}; re-run that run",
                item.index
            ),
        ));
    }
    let version = if latest { None } else { Some(run.version) };
    start(
        db,
        actor,
        &run.workflow_id,
        version,
        &run.input,
        Via::Rerun(run_id.as_str()),
        now,
    )
    .await
}
