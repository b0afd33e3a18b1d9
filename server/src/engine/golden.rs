//! Golden runs (issue 18): a case of a golden set played against a
//! version. Steps that call out answer from the case's recorded answers
//! (unless the case is live; an Email step sends nothing), and where a person would be asked, the case
//! decides and the engine notes that someone would have been asked.

use super::Result;
use super::runners::Outcome;
use app::domain::golden::{CaseDecision, CaseSpec};
use app::domain::graph::{ErrorClass, Node, NodeKind, WorkflowDef};
use app::store::approvals::NewItem;
use app::store::runs::Claimed;

/// Who decides in a golden run.
const BY: &str = "the test case";

/// The recorded answer of a step that calls out, or None when it runs for
/// real (the case is live, or the step calls nothing). A Delay does not
/// wait in a golden run: it ends at once, as if its time had passed.
pub(super) fn replay(case: &CaseSpec, node: &Node) -> Option<Outcome> {
    if let NodeKind::Delay { duration_ms } = node.kind {
        return Some(Outcome::out(
            serde_json::json!({ "waited_ms": duration_ms }),
        ));
    }
    if case.live
        || !matches!(
            node.kind,
            NodeKind::Http { .. } | NodeKind::Llm(_) | NodeKind::Email(_)
        )
    {
        return None;
    }
    // a golden run sends nobody an email: without a recorded answer the
    // step succeeds saying so
    if matches!(node.kind, NodeKind::Email(_)) && !case.recorded.contains_key(&node.id) {
        return Some(Outcome::out(
            serde_json::json!({ "sent": false, "reason": "a golden run sends no email" }),
        ));
    }
    Some(match case.recorded.get(&node.id) {
        Some(r) => Outcome::Done {
            output: r.output.clone(),
            confidence: r.confidence,
            port: r
                .port
                .clone()
                .unwrap_or_else(|| app::domain::PORT_OUT.into()),
        },
        None => Outcome::fail(
            ErrorClass::Business,
            format!(
                "the test case records no answer for step '{}': record one, or mark the case live",
                node.id
            ),
        ),
    })
}

/// What the case decides where step `node` would ask people with `item`.
fn decide(case: &CaseSpec, def: &WorkflowDef, node: &Node, item: &NewItem) -> Outcome {
    let d = case.decisions.get(&node.id);
    let approved = match d {
        Some(CaseDecision::Approve) => Some(item.proposed.clone()),
        Some(CaseDecision::Edit { output }) => Some(output.clone()),
        Some(CaseDecision::Reject) | None => None,
    };
    let comment = if d.is_none() {
        "it has no decision for this step"
    } else {
        ""
    };
    match (item.reason, approved) {
        ("confidence", Some(output)) => super::gate::approved(node, output, &item.context),
        ("confidence", None) => super::gate::rejected(BY, comment),
        (_, approved) => super::approval::ended(def, node, approved, BY, comment),
    }
}

/// In a golden run, the case's decision instead of asking people with
/// `item` (noted as asked); None in any other run.
pub(super) async fn answer(
    tx: &mut app::store::conn::Conn,
    def: &WorkflowDef,
    c: &Claimed,
    item: &NewItem,
) -> Result<Option<Outcome>> {
    let Some(case) = app::store::golden::case_of_run(&mut *tx, c.run_id.as_str()).await? else {
        return Ok(None);
    };
    let Some(node) = def.node(&c.node_id) else {
        return Ok(None);
    };
    app::store::golden::note_asked(&mut *tx, c.run_id.as_str(), &node.id, item.reason).await?;
    Ok(Some(decide(&case, def, node, item)))
}

impl app::ops::golden::Evaluate for super::Engine {
    /// In the engine's sandbox, as any workflow logic.
    fn jq<'a>(
        &'a self,
        exprs: &'a [String],
        input: &'a serde_json::Value,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Vec<std::result::Result<serde_json::Value, String>>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            let jobs = exprs.iter().map(|e| crate::sandbox::Job::jq(e)).collect();
            let req = crate::sandbox::Request::over(input, jobs);
            match self.sandbox.run(&req).await {
                Ok(results) => results,
                // a bound crossed by one of them fails them all: each is
                // evaluated again on its own, so the others still count
                Err(crate::sandbox::SandboxError::Limit(_)) if exprs.len() > 1 => {
                    let mut out = Vec::with_capacity(exprs.len());
                    for e in exprs {
                        let one =
                            crate::sandbox::Request::over(input, vec![crate::sandbox::Job::jq(e)]);
                        out.push(match self.sandbox.run(&one).await {
                            Ok(mut r) => r.pop().unwrap_or_else(|| Err("no result".into())),
                            Err(crate::sandbox::SandboxError::Limit(m))
                            | Err(crate::sandbox::SandboxError::Unavailable(m)) => Err(m),
                        });
                    }
                    out
                }
                Err(crate::sandbox::SandboxError::Limit(m))
                | Err(crate::sandbox::SandboxError::Unavailable(m)) => {
                    exprs.iter().map(|_| Err(m.clone())).collect()
                }
            }
        })
    }
}
