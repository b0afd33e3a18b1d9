//! Deciding approval items, and the lists people see. A decision is one
//! transaction: the person's decision, and when it settles the item, the
//! item's closing (a conditional update: of two people deciding at once
//! exactly one settles it) and the wake-up of the waiting step.

use crate::domain::approvals::{
    ApprovalFilter, ApprovalItem, ApprovalPage, Decision, check_answers, final_output, may_decide,
};
use crate::domain::audit::NewAuditEvent;
use crate::domain::auth::Principal;
use crate::domain::ids::ItemId;
use crate::domain::records::format_time;
use crate::domain::run::ItemStatus;
use crate::domain::transitions::{ItemEvent, Machine};
use crate::error::{AppError, ErrorCode};
use crate::store::conn::{Batch, Finish};
use crate::store::{Db, StoreError, approvals as items, audit};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The run whose step started the item's run (a Sub-workflow step or a
/// For each item), with what the reviewer needs of it.
pub async fn parent_run(
    db: &Db,
    item: &ApprovalItem,
) -> Result<Option<crate::domain::approvals::ParentRun>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let run = crate::store::runs::get_run(&mut conn, &item.run_id).await?;
    let (Some(parent), Some(node)) = (run.parent_run_id, run.parent_node_id) else {
        return Ok(None);
    };
    let p = crate::store::runs::get_run(&mut conn, &crate::domain::ids::RunId::from_stored(parent))
        .await?;
    let workflow_name = crate::store::workflows::get_any(&mut conn, &p.workflow_id, p.version)
        .await
        .map(|w| w.name)
        .unwrap_or_default();
    Ok(Some(crate::domain::approvals::ParentRun {
        run_id: p.id.to_string(),
        node_id: node,
        workflow_name,
        item_index: run.item.map(|i| i.index),
        input: p.input,
    }))
}

/// The names of the steps of the item's workflow version, by id (pages
/// show names, not ids).
pub async fn step_names(
    db: &Db,
    item: &ApprovalItem,
) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let run = crate::store::runs::get_run(&mut conn, &item.run_id).await?;
    let wf = crate::store::workflows::get_any(&mut conn, &run.workflow_id, run.version).await?;
    Ok(wf
        .definition
        .nodes
        .iter()
        .map(|n| (n.id.clone(), n.name.clone()))
        .collect())
}

/// The SHA-256 of a value's JSON text, in hex.
fn digest(v: &Value) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(v.to_string().as_bytes()))
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DecisionInput {
    /// `approve` or `reject`.
    pub decision: String,
    #[serde(default)]
    pub comment: String,
    /// The proposed output as the reviewer edited it.
    #[serde(default)]
    pub output: Option<Value>,
    /// Answers to the item's form.
    #[serde(default)]
    pub answers: Map<String, Value>,
}

/// A classify step's answer, as a reviewer edited it, must still name one
/// of its labels: the label decides where the run goes.
async fn check_label(
    conn: &mut crate::store::conn::Conn,
    run: &crate::domain::records::RunRecord,
    node_id: &str,
    output: &Value,
) -> Result<(), AppError> {
    let wf = crate::store::workflows::get_any(&mut *conn, &run.workflow_id, run.version).await?;
    let Some(crate::domain::NodeKind::Llm(cfg)) = wf.definition.node(node_id).map(|n| &n.kind)
    else {
        return Ok(());
    };
    if cfg.mode != crate::domain::LlmMode::Classify || cfg.port_of(output).is_some() {
        return Ok(());
    }
    let labels: Vec<&str> = cfg.labels.iter().map(|l| l.name.as_str()).collect();
    Err(AppError::bad_request(format!(
        "label must be one of {} (it decides which way the run goes)",
        labels.join(", ")
    )))
}

fn already(item: &ApprovalItem) -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        format!(
            "already {} by {} at {}",
            item.status,
            item.decided_by.as_deref().unwrap_or("someone"),
            item.decided_at.map(format_time).unwrap_or_default()
        ),
    )
}

pub async fn decide(
    db: &Db,
    p: &Principal,
    id: &str,
    input: DecisionInput,
    now: i64,
) -> Result<ApprovalItem, AppError> {
    let id = &parse_item_id(id)?;
    let approve = match input.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(AppError::bad_request(format!(
                "decision '{other}' is neither 'approve' nor 'reject'"
            )));
        }
    };
    if input.comment.chars().count() > 4000 {
        return Err(AppError::bad_request(
            "the comment has at most 4,000 characters",
        ));
    }
    let mut tx = db.write().await?;
    // the item and its run in one message (the BEGIN goes with it)
    let mut b = Batch::new();
    let (at_item, at_run) = (
        b.push(items::get_query(id)),
        b.push(crate::store::runs::run_of_item_query(id)),
    );
    let read = b.run(&mut tx).await.map_err(StoreError::from)?;
    let item = items::item_at(&read, at_item)?
        .ok_or_else(|| AppError::not_found(format!("no approval item '{id}'")))?;
    // a decision already made says who made it, before anything else
    if matches!(item.status, ItemStatus::Approved | ItemStatus::Rejected) {
        return Err(already(&item));
    }
    let run = crate::store::runs::run_at(&read, at_run)?.ok_or(StoreError::NotFound)?;
    if run.status != crate::domain::run::RunStatus::Running {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "the run is {}; its approvals can no longer be decided",
                run.status
            ),
        ));
    }
    if item.status != ItemStatus::Pending {
        return Err(already(&item));
    }
    may_decide(p, &item).map_err(|m| AppError::new(ErrorCode::Forbidden, m))?;
    if approve {
        check_answers(&item.form, &input.answers).map_err(AppError::bad_request)?;
    }
    let answers = (!input.answers.is_empty()).then(|| Value::Object(input.answers.clone()));
    // what this person saw: the proposal as earlier approvers left it
    let before = item.current_output.as_ref().unwrap_or(&item.proposed);
    let edited = input.output.as_ref().filter(|o| *o != before);
    if approve
        && item.reason == "confidence"
        && let Some(after) = edited
    {
        check_label(&mut tx, &run, &item.node_id, after).await?;
    }
    let settles = !approve || item.approvals + 1 >= item.required;
    // the key human act, in the audit: what was proposed, what this person
    // changed (path by path, before and after), their answers, and what
    // the step's output became (the values themselves stay on the item;
    // their digests here tie the chain to them)
    let mut details = json!({
        "item": id,
        "decision": input.decision,
        "comment": input.comment,
        "proposed_sha256": digest(before),
    });
    if let Some(after) = edited {
        details["changed"] = json!(crate::domain::diff::changed_paths(before, after));
    }
    if let Some(a) = &answers {
        details["answers"] = a.clone();
    }
    let event = if approve {
        ItemEvent::Approve
    } else {
        ItemEvent::Reject
    };
    let output =
        (settles && approve).then(|| final_output(before, edited.cloned(), input.answers.clone()));
    if settles {
        if let Some(o) = &output {
            details["final_sha256"] = json!(digest(o));
        }
        details["settled"] = json!(event.target());
    } else {
        details["approvals"] = json!(item.approvals + 1);
        details["required"] = json!(item.required);
    }
    let ev = NewAuditEvent::run(now, &p.actor, "approval.decided", &item.run_id, details);
    let decision = items::NewDecision {
        item_id: id,
        actor: p.who(),
        via: p.via(),
        decision: &input.decision,
        comment: &input.comment,
        output: edited,
        answers: answers.as_ref(),
        at: now,
    };
    // every write, the audit event and the item as it ends up in one
    // message, with the COMMIT when the chain's head is known
    let mut b = Batch::new();
    b.push(items::add_decision_query(&decision));
    let closing = match settles {
        true => {
            let c = items::close_query(id, event, p.who(), output.as_ref(), &input.comment, now);
            let at = b.push_guarded(c, 1);
            b.push(items::wake_step_query(&item.run_id, &item.node_id, now));
            Some(at)
        }
        false => {
            if let Some(after) = edited {
                b.push(items::set_current_output_query(id, after));
            }
            None
        }
    };
    let queued = audit::queue(&mut tx, &mut b, &ev);
    let at_after = b.push(items::get_query(id));
    let (open, done) = match queued.is_some() {
        true => match b.commit(tx).await.map_err(items::decided_twice)? {
            Finish::Committed(done) => (None, done),
            Finish::Open(tx, done) => (Some(tx), done),
        },
        false => {
            let done = b.run(&mut tx).await.map_err(items::decided_twice)?;
            (Some(tx), done)
        }
    };
    // someone settled it first: nothing of this decision is kept
    if closing.is_some() && done.stopped() == closing {
        return Err(already(&item));
    }
    let after = match open {
        None => items::item_at(&done, at_after)?,
        // the chain's head moved (or was not known): the event goes after
        // the head as read, then the item is read again
        Some(mut tx) => {
            audit::settle(&mut tx, &done, queued, &ev).await?;
            let after = items::get(&mut tx, id).await?;
            tx.commit().await.map_err(StoreError::from)?;
            after
        }
    };
    Ok(after.ok_or(StoreError::NotFound)?)
}

/// Pending items `p` may decide (every pending item with `all`), or
/// decided items (history), one page at a time with the total.
pub async fn list(
    db: &Db,
    p: &Principal,
    filter: ApprovalFilter,
    now: i64,
) -> Result<ApprovalPage, AppError> {
    let f = filter.cleaned().map_err(AppError::bad_request)?;
    let mine = f.status == "pending" && !f.all;
    if mine && !p.can(crate::domain::auth::Permission::DecideApprovals) {
        return Ok(ApprovalPage::default());
    }
    let who = items::Decider {
        role: p.role.as_str(),
        name: p.person.as_deref(),
        who: p.who(),
    };
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let mut page = items::search(&mut conn, &f, mine.then_some(&who), now).await?;
    if mine {
        // The SQL and the rules agree; this keeps a disagreement from
        // ever offering an item the server would refuse.
        page.items.retain(|i| may_decide(p, i).is_ok());
    }
    Ok(page)
}

/// An item id from outside: one of the right shape, or 404.
fn parse_item_id(id: &str) -> Result<ItemId, AppError> {
    ItemId::parse(id).ok_or_else(|| AppError::not_found(format!("no approval item '{id}'")))
}

pub async fn get(db: &Db, id: &str) -> Result<(ApprovalItem, Vec<Decision>), AppError> {
    let id = &parse_item_id(id)?;
    let mut conn = db.acquire().await.map_err(StoreError::from)?;
    let item = items::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no approval item '{id}'")))?;
    let decisions = items::decisions(&mut conn, id).await?;
    Ok((item, decisions))
}

/// Where an export of decisions goes on: after this item (its decision
/// time and id).
pub type ExportCursor = Option<(i64, crate::domain::ids::ItemId)>;

/// One page of the decisions export after `after`, and the cursor of the
/// next page (None: that was the last). Decided items as labelled
/// examples, one JSON object per line: what the person saw (input,
/// proposed output, confidences) and what they decided.
pub async fn export_page(
    db: &Db,
    workflow_id: &str,
    node_id: Option<&str>,
    after: ExportCursor,
    limit: i64,
) -> Result<(String, Option<ExportCursor>), AppError> {
    let page = {
        let mut conn = db.acquire().await.map_err(StoreError::from)?;
        let after = after.as_ref().map(|(at, id)| (*at, id));
        items::decided(&mut conn, workflow_id, node_id, after, limit).await?
    };
    let mut out = String::new();
    for i in &page {
        let line = json!({
            "item_id": i.id,
            "run_id": i.run_id,
            "workflow_id": i.workflow_id,
            "node_id": i.node_id,
            "reason": i.reason,
            "input": i.context["input"],
            "proposed_output": i.proposed,
            "final_output": i.final_output,
            "decision": i.status,
            "reviewer": i.decided_by,
            "comment": i.comment,
            "cum_confidence": i.context["cum_confidence"],
            "step_confidence": i.context["step_confidence"],
            // what produced the proposal: per step, its input's hash and,
            // for a model's answer, the model and the prompt's hash
            "lineage": i.context["lineage"],
            "decided_at": i.decided_at,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    let next = match page.last() {
        Some(last) if page.len() as i64 == limit => {
            Some(Some((last.decided_at.unwrap_or_default(), last.id.clone())))
        }
        _ => None,
    };
    Ok((out, next))
}
