//! The publish gate: a share of the golden set a version must pass.

use super::Evaluate;
use super::suite::report;
use crate::domain::audit::{Actor, NewAuditEvent};
use crate::domain::golden::report::Totals;
use crate::error::AppError;
use crate::store::{Db, StoreError, audit, golden as store};
use serde_json::json;

fn invalid(m: String) -> AppError {
    AppError::new(crate::error::ErrorCode::InvalidInput, m)
}

/// What a workflow's publish gate says of a version.
#[derive(Clone, Debug, PartialEq)]
pub enum GateVerdict {
    /// The workflow sets no gate.
    None,
    /// The version's newest golden-set run clears it.
    Passed(Totals),
    /// It falls short, has not run or is still running: why.
    Short(String),
}

/// The gate's verdict on publishing `version` (its newest suite judged,
/// assertions evaluated by `eval`).
pub async fn gate_check(
    db: &Db,
    eval: Option<&dyn Evaluate>,
    workflow_id: &str,
    version: i64,
    now: i64,
) -> Result<GateVerdict, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let Some(min) = store::publish_gate(&mut conn, workflow_id).await? else {
        return Ok(GateVerdict::None);
    };
    let needs = format!("publishing requires the golden set to pass ({min:.0} % of its cases)");
    let Some(suite) = store::latest_suite(&mut conn, workflow_id, version).await? else {
        return Ok(GateVerdict::Short(format!(
            "{needs}, and it has not run on version {version}: run it first"
        )));
    };
    drop(conn);
    let Some(eval) = eval else {
        return Ok(GateVerdict::Short(format!(
            "{needs}; it cannot be judged here"
        )));
    };
    let r = report(db, eval, &suite, now).await?;
    if !r.finished {
        return Ok(GateVerdict::Short(format!(
            "{needs}, and its run on version {version} is not finished ({} case(s) left): publish once it is",
            r.pending
        )));
    }
    Ok(match crate::domain::golden::report::gate(&r.cases, min) {
        Ok(()) => GateVerdict::Passed(r.totals),
        Err(why) => GateVerdict::Short(why),
    })
}

/// Sets the share of the golden set (percent) publishing requires, or
/// none; audited.
pub async fn set_publish_gate(
    db: &Db,
    actor: &Actor,
    workflow_id: &str,
    min_pass_pct: Option<f64>,
    now: i64,
) -> Result<(), AppError> {
    if let Some(p) = min_pass_pct
        && !(p.is_finite() && p > 0.0 && p <= 100.0)
    {
        return Err(invalid(
            "min_pass_pct: a share of the cases above 0 and at most 100, or null for no gate"
                .into(),
        ));
    }
    let mut tx = db.write().await?;
    store::set_publish_gate(&mut tx, workflow_id, min_pass_pct)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found(format!("no workflow '{workflow_id}'")),
            e => e.into(),
        })?;
    let entity = format!("workflow:{workflow_id}");
    let details = json!({"min_pass_pct": min_pass_pct});
    audit::append(
        &mut tx,
        &NewAuditEvent::new(now, &actor.0, "workflow.publish_gate", entity, details),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
