//! Where outputs came from and what models cost: the lineage and model
//! calls kept with each attempt, read back.

use crate::domain::ids::RunId;
use crate::store::Result;

/// The lineage of the newest output of each of `nodes` in run `run_id`
/// (those that produced one), by node.
pub async fn latest_lineage(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    nodes: &[String],
) -> Result<std::collections::BTreeMap<String, crate::domain::lineage::Lineage>> {
    let mut out = std::collections::BTreeMap::new();
    for node in nodes {
        let row: Option<String> = crate::store::conn::query_scalar(
            "SELECT lineage FROM step_attempts
             WHERE run_id = $1 AND node_id = $2 AND lineage IS NOT NULL
             ORDER BY attempt DESC LIMIT 1",
        )
        .bind(run_id)
        .bind(node)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(l) = row.and_then(|l| serde_json::from_str(&l).ok()) {
            out.insert(node.clone(), l);
        }
    }
    Ok(out)
}

/// What run `run_id`'s LLM steps used (None: no model was asked).
pub async fn model_usage(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
) -> Result<Option<crate::domain::records::ModelUsage>> {
    let (calls, tokens_in, tokens_out, cost): (Option<i64>, Option<i64>, Option<i64>, Option<f64>) = crate::store::conn::query_as(
        "SELECT SUM(json_extract(model_call, '$.requests')), SUM(tokens_in), SUM(tokens_out), SUM(cost)
         FROM step_attempts WHERE run_id = $1 AND model_call IS NOT NULL",
    )
    .bind(run_id)
    .fetch_one(conn)
    .await?;
    let Some(requests) = calls else {
        return Ok(None);
    };
    Ok(Some(crate::domain::records::ModelUsage {
        requests,
        tokens_in: tokens_in.unwrap_or(0),
        tokens_out: tokens_out.unwrap_or(0),
        cost,
    }))
}
