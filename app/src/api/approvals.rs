//! The approval inbox: items to decide, one item with its context, and
//! the decision.

use crate::domain::approvals::{ApprovalFilter, ApprovalItem, ApprovalPage, Decision};
#[cfg(feature = "ssr")]
use crate::domain::auth::Permission;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemView {
    pub item: ApprovalItem,
    pub decisions: Vec<Decision>,
    /// Why the viewer may not decide it (None: they may).
    pub cannot: Option<String>,
    /// The names of the steps of the run's workflow version, by id.
    #[serde(default)]
    pub step_names: std::collections::BTreeMap<String, String>,
    /// When the item's run was started by a step of another run (a
    /// Sub-workflow or a For each item): that run.
    #[serde(default)]
    pub parent: Option<crate::domain::approvals::ParentRun>,
}

/// Pending items the caller may decide, most urgent first, or decided
/// items (history): one page and the total. `limit: 0` gives only the
/// total (the nav badge).
#[server(prefix = "/rpc", endpoint = "list_approvals")]
pub async fn list_approvals(
    #[server(default)] filter: ApprovalFilter,
) -> Result<ApprovalPage, AppError> {
    let who = super::require(Permission::Read, "see approvals")?;
    crate::ops::approvals::list(&super::db()?, &who, filter, crate::ops::now_ms())
        .await
        .map_err(super::failed)
}

#[server(prefix = "/rpc", endpoint = "get_approval")]
pub async fn get_approval(id: String) -> Result<ItemView, AppError> {
    let who = super::require(Permission::Read, "see approvals")?;
    let (item, decisions) = crate::ops::approvals::get(&super::db()?, &id)
        .await
        .map_err(super::failed)?;
    let cannot = if item.status != crate::domain::run::ItemStatus::Pending {
        Some(format!("already {}", item.status))
    } else {
        crate::domain::approvals::may_decide(&who, &item).err()
    };
    let step_names = crate::ops::approvals::step_names(&super::db()?, &item)
        .await
        .map_err(super::failed)?;
    let parent = crate::ops::approvals::parent_run(&super::db()?, &item)
        .await
        .map_err(super::failed)?;
    Ok(ItemView {
        item,
        decisions,
        cannot,
        step_names,
        parent,
    })
}

/// `output` is the edited proposed output as JSON text (empty: unchanged);
/// `answers` the form answers as a JSON object.
#[server(prefix = "/rpc", endpoint = "decide_approval")]
pub async fn decide_approval(
    id: String,
    decision: String,
    comment: String,
    output: String,
    answers: String,
) -> Result<ApprovalItem, AppError> {
    let who = super::require(Permission::DecideApprovals, "decide approvals")?;
    let output = if output.trim().is_empty() {
        None
    } else {
        Some(serde_json::from_str(&output).map_err(|e| {
            super::failed(AppError::bad_request(format!(
                "the edited output is not valid JSON: {e}"
            )))
        })?)
    };
    let answers = if answers.trim().is_empty() {
        Default::default()
    } else {
        serde_json::from_str(&answers).map_err(|e| {
            super::failed(AppError::bad_request(format!(
                "the answers are not a JSON object: {e}"
            )))
        })?
    };
    let input = crate::ops::approvals::DecisionInput {
        decision,
        comment,
        output,
        answers,
    };
    let item = crate::ops::approvals::decide(&super::db()?, &who, &id, input, crate::ops::now_ms())
        .await
        .map_err(super::failed)?;
    if let Some(w) = use_context::<crate::ops::Wakeup>() {
        w.wake();
    }
    if let Some(c) = use_context::<crate::ops::Changes>() {
        c.notify("approvals");
    }
    Ok(item)
}
