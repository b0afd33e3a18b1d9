//! Which operations a person may apply to a run in the state it is in:
//! cancel, retry a step, re-run. Pure: the server refuses what these
//! refuse (409 with the reason), and the run page offers only what they
//! allow.

use super::records::StepRecord;
use super::run::{RunStatus, StepStatus};

/// Whether the run can be cancelled.
pub fn cancel(run: RunStatus) -> Result<(), String> {
    if run == RunStatus::Running {
        Ok(())
    } else {
        Err(format!(
            "the run is already {run}; only a running run can be cancelled"
        ))
    }
}

/// Whether step `node` of a run can be retried: only a step whose failure
/// ended the run (an unhandled failure of a failed run), and only while
/// the run's completed work has not been undone.
pub fn retry(run: RunStatus, steps: &[StepRecord], node: &str) -> Result<(), String> {
    let Some(step) = steps.iter().find(|s| s.node_id == node) else {
        return Err(format!("the run has no step '{node}'"));
    };
    if step.status != StepStatus::Failed {
        return Err(format!(
            "step '{node}' is {}; only a failed step can be retried",
            step.status
        ));
    }
    if step.port.is_some() {
        return Err(format!(
            "step '{node}' failed, but its error path took over and the run went on; \
             start a re-run to run it again"
        ));
    }
    if run != RunStatus::Failed {
        return Err(format!(
            "the run is {run}; only a failed run's step can be retried"
        ));
    }
    if steps
        .iter()
        .any(|s| super::run::compensated_node(&s.node_id).is_some())
    {
        return Err(
            "the run's completed steps were already undone (compensated); start a re-run instead"
                .into(),
        );
    }
    Ok(())
}

/// Whether a run's steps can go on under workflow version `new` instead
/// of `old` (a retry on the latest version): only when both have the same
/// steps, so every step row of the run has its node; the change was in
/// what the steps do, not in which steps there are.
pub fn same_steps(
    old: &super::graph::WorkflowDef,
    new: &super::graph::WorkflowDef,
    new_version: i64,
) -> Result<(), String> {
    let ids = |d: &super::graph::WorkflowDef| {
        d.nodes
            .iter()
            .map(|n| n.id.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (a, b) = (ids(old), ids(new));
    if a == b {
        return Ok(());
    }
    let added: Vec<&String> = b.difference(&a).collect();
    let removed: Vec<&String> = a.difference(&b).collect();
    let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    Err(format!(
        "version {new_version} has other steps (added: {}; removed: {}); start a re-run on the latest version instead",
        if added.is_empty() {
            "none".into()
        } else {
            list(&added)
        },
        if removed.is_empty() {
            "none".into()
        } else {
            list(&removed)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, status: StepStatus, port: Option<&str>) -> StepRecord {
        serde_json::from_value(serde_json::json!({
            "node_id": id, "status": status, "attempt": 1, "not_before": 0, "port": port,
            "output": null, "error_class": null, "error": null, "confidence": null,
            "cum_confidence": null, "started_at": null, "finished_at": null
        }))
        .unwrap()
    }

    #[test]
    fn only_a_failure_that_ended_the_run_can_be_retried() {
        let failed = [step("a", StepStatus::Failed, None)];
        assert!(retry(RunStatus::Failed, &failed, "a").is_ok());
        let e = retry(RunStatus::Failed, &failed, "b").unwrap_err();
        assert!(e.contains("no step 'b'"), "{e}");
        let ok = [step("a", StepStatus::Succeeded, Some("out"))];
        let e = retry(RunStatus::Succeeded, &ok, "a").unwrap_err();
        assert!(e.contains("only a failed step"), "{e}");
        // handled by an error edge: the run went on (running or succeeded)
        let handled = [step("a", StepStatus::Failed, Some("error"))];
        for run in [RunStatus::Running, RunStatus::Succeeded] {
            let e = retry(run, &handled, "a").unwrap_err();
            assert!(e.contains("error path took over"), "{e}");
        }
        let e = retry(RunStatus::Cancelled, &failed, "a").unwrap_err();
        assert!(e.contains("the run is cancelled"), "{e}");
        let undone = [
            step("a", StepStatus::Failed, None),
            step("b~compensate", StepStatus::Succeeded, Some("out")),
        ];
        let e = retry(RunStatus::Failed, &undone, "a").unwrap_err();
        assert!(e.contains("compensated"), "{e}");
    }

    #[test]
    fn only_a_running_run_can_be_cancelled() {
        assert!(cancel(RunStatus::Running).is_ok());
        for r in [
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Cancelled,
        ] {
            assert!(cancel(r).unwrap_err().contains(r.as_str()));
        }
    }

    #[test]
    fn a_retry_moves_to_a_version_only_with_the_same_steps() {
        let old = crate::domain::example::invoice_approval();
        let mut fixed = old.clone();
        fixed.nodes[5].name = "Post to the new ledger".into();
        assert_eq!(same_steps(&old, &fixed, 2), Ok(()));
        let mut other = old.clone();
        other.nodes.retain(|n| n.id != "merge");
        other.nodes.push(crate::domain::Node::new(
            "check",
            "Check",
            crate::domain::NodeKind::Join {},
        ));
        assert_eq!(
            same_steps(&old, &other, 3),
            Err("version 3 has other steps (added: check; removed: merge); start a re-run on the latest version instead".into())
        );
    }
}
