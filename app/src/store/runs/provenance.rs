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
    // summed here rather than in SQL: the attempts that asked a model are
    // few, and both backends read them alike (PostgreSQL's SUM of a BIGINT
    // is a NUMERIC, and the request count is inside the call's JSON)
    #[derive(sqlx::FromRow)]
    struct Used {
        model_call: String,
        tokens_in: Option<i64>,
        tokens_out: Option<i64>,
        cost: Option<f64>,
    }
    let rows: Vec<Used> = crate::store::conn::query_as(
        "SELECT model_call, tokens_in, tokens_out, cost
         FROM step_attempts WHERE run_id = $1 AND model_call IS NOT NULL",
    )
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut usage = crate::domain::records::ModelUsage {
        requests: 0,
        tokens_in: 0,
        tokens_out: 0,
        cost: None,
    };
    for Used {
        model_call,
        tokens_in,
        tokens_out,
        cost,
    } in rows
    {
        let requests = serde_json::from_str::<serde_json::Value>(&model_call)
            .ok()
            .and_then(|c| c["requests"].as_i64())
            .unwrap_or(0);
        usage.requests = usage.requests.saturating_add(requests);
        usage.tokens_in = usage.tokens_in.saturating_add(tokens_in.unwrap_or(0));
        usage.tokens_out = usage.tokens_out.saturating_add(tokens_out.unwrap_or(0));
        if let Some(c) = cost {
            usage.cost = Some(usage.cost.unwrap_or(0.0) + c);
        }
    }
    Ok(Some(usage))
}
