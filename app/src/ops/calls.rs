//! Sub-workflow calls between workflows: a workflow must not call itself,
//! directly or through others, or its runs would start one another until
//! the depth bound stopped them. Checked on save and on publish.

use crate::domain::graph::{NodeKind, WorkflowDef};
use crate::domain::validate::{Problem, ProblemKind};
use crate::store::{Db, StoreError, workflows};

/// How far the calls are followed (the runtime bound on nesting).
const DEPTH: usize = 8;

/// A problem per Sub-workflow step of `def` (a version of `workflow_id`)
/// whose calls lead back to `workflow_id`.
pub async fn cycle_problems(
    db: &Db,
    workflow_id: &str,
    def: &WorkflowDef,
) -> Result<Vec<Problem>, StoreError> {
    let mut conn = db.acquire().await?;
    let mut problems = Vec::new();
    for node in &def.nodes {
        let NodeKind::SubWorkflow {
            workflow_id: callee,
            version,
            ..
        } = &node.kind
        else {
            continue;
        };
        // (workflow, pinned version, the way there)
        let mut stack = vec![(callee.clone(), *version, vec![callee.clone()])];
        let mut seen = std::collections::BTreeSet::new();
        while let Some((wf, version, path)) = stack.pop() {
            if wf == workflow_id {
                problems.push(Problem {
                    kind: ProblemKind::Cycle,
                    node: Some(node.id.clone()),
                    edge: None,
                    message: format!(
                        "Sub-workflow '{}': it runs {} and so this workflow again; runs would start one another until {DEPTH} are nested; remove one of the calls, or use a bounded loop",
                        node.id,
                        path.join(" → ")
                    ),
                });
                break;
            }
            if path.len() > DEPTH || !seen.insert((wf.clone(), version)) {
                continue;
            }
            let version = match version {
                Some(v) => Some(v),
                None => workflows::published(&mut conn, &wf).await?,
            };
            let Some(v) = version else { continue };
            let Ok(callee) = workflows::get_any(&mut conn, &wf, v).await else {
                continue;
            };
            for n in &callee.definition.nodes {
                if let NodeKind::SubWorkflow {
                    workflow_id,
                    version,
                    ..
                } = &n.kind
                {
                    let mut next = path.clone();
                    next.push(workflow_id.clone());
                    stack.push((workflow_id.clone(), *version, next));
                }
            }
        }
    }
    Ok(problems)
}
