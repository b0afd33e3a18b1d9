//! Approval items: creating and reading them, and the lists people see.
//! Their lifecycle (decisions, closing, escalation) is in `lifecycle`.

mod announce;
mod lifecycle;
pub use announce::*;
pub use lifecycle::*;

use super::{Result, StoreError};
use crate::domain::approvals::{ApprovalFilter, ApprovalItem, ApprovalPage, Decision};
use crate::domain::ids::{ItemId, RunId};
use crate::domain::run::ItemStatus;
use crate::store::conn::{Bind, Where};
use serde_json::Value;

/// What the engine writes when a step starts waiting for people.
#[derive(Clone, Debug, PartialEq)]
pub struct NewItem {
    pub id: ItemId,
    pub run_id: RunId,
    pub node_id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub node_name: String,
    pub reason: &'static str,
    pub title: String,
    pub instructions: String,
    pub roles: Vec<String>,
    pub users: Vec<String>,
    pub required: i64,
    pub allow_self: bool,
    pub started_by: String,
    pub form: Value,
    pub proposed: Value,
    pub context: Value,
    pub deadline_at: Option<i64>,
    pub deadline_action: Option<Value>,
    pub created_at: i64,
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Creates the step's item. An earlier item of the same step (the step
/// runs again: a retry, another attempt of its policy) is superseded: it
/// keeps its decision in the history and no longer answers for the step.
pub async fn insert(conn: &mut crate::store::conn::Conn, i: &NewItem) -> Result<()> {
    supersede(&mut *conn, &i.run_id, &i.node_id, i.created_at).await?;
    crate::store::conn::query(
        "INSERT INTO approval_items (id, run_id, node_id, workflow_id, workflow_name, node_name, reason, status,
            title, instructions, roles, users, required, allow_self, started_by, form, proposed, context,
            deadline_at, deadline_action, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(&i.id)
    .bind(&i.run_id)
    .bind(&i.node_id)
    .bind(&i.workflow_id)
    .bind(&i.workflow_name)
    .bind(&i.node_name)
    .bind(i.reason)
    .bind(&i.title)
    .bind(&i.instructions)
    .bind(json(&i.roles))
    .bind(json(&i.users))
    .bind(i.required)
    .bind(i.allow_self)
    .bind(&i.started_by)
    .bind(json(&i.form))
    .bind(json(&i.proposed))
    .bind(json(&i.context))
    .bind(i.deadline_at)
    .bind(i.deadline_action.as_ref().map(json))
    .bind(i.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: ItemId,
    run_id: RunId,
    node_id: String,
    workflow_id: String,
    workflow_name: String,
    node_name: String,
    reason: String,
    status: String,
    title: String,
    instructions: String,
    roles: String,
    users: String,
    required: i64,
    allow_self: bool,
    started_by: String,
    form: String,
    proposed: String,
    context: String,
    deadline_at: Option<i64>,
    escalated_to: Option<String>,
    created_at: i64,
    decided_at: Option<i64>,
    decided_by: Option<String>,
    final_output: Option<String>,
    comment: Option<String>,
    current_output: Option<String>,
    approvals: i64,
}

const SELECT: &str = "SELECT i.id, i.run_id, i.node_id, i.workflow_id, i.workflow_name, i.node_name, i.reason, i.status,
        i.title, i.instructions, i.roles, i.users, i.required, i.allow_self, i.started_by, i.form, i.proposed,
        i.context, i.deadline_at, i.escalated_to, i.created_at, i.decided_at, i.decided_by, i.final_output, i.comment,
        i.current_output, (SELECT COUNT(*) FROM approval_decisions d WHERE d.item_id = i.id AND d.decision = 'approve') AS approvals
     FROM approval_items i";

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("approval item: {e}")))
}

impl TryFrom<Row> for ApprovalItem {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(ApprovalItem {
            roles: parse(&r.roles)?,
            users: parse(&r.users)?,
            form: parse(&r.form)?,
            proposed: parse(&r.proposed)?,
            context: parse(&r.context)?,
            final_output: r.final_output.as_deref().map(parse).transpose()?,
            current_output: r.current_output.as_deref().map(parse).transpose()?,
            status: ItemStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("item status '{}'", r.status)))?,
            id: r.id,
            run_id: r.run_id,
            node_id: r.node_id,
            workflow_id: r.workflow_id,
            workflow_name: r.workflow_name,
            node_name: r.node_name,
            reason: r.reason,
            title: r.title,
            instructions: r.instructions,
            required: r.required,
            allow_self: r.allow_self,
            started_by: r.started_by,
            deadline_at: r.deadline_at,
            escalated_to: r.escalated_to,
            created_at: r.created_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by,
            comment: r.comment,
            approvals: r.approvals,
        })
    }
}

static GET_ONE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{SELECT} WHERE i.id = $1"));

pub async fn get(conn: &mut crate::store::conn::Conn, id: &ItemId) -> Result<Option<ApprovalItem>> {
    let row: Option<Row> = crate::store::conn::query_as(&GET_ONE)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(ApprovalItem::try_from).transpose()
}

/// [`get`] as a statement for a batch; [`item_at`] reads its answer.
pub fn get_query(id: &ItemId) -> crate::store::conn::Query<'_> {
    crate::store::conn::query(&GET_ONE).bind(id)
}

/// The item statement `i` of `done` read ([`get_query`]), if any.
pub fn item_at(done: &crate::store::conn::Results, i: usize) -> Result<Option<ApprovalItem>> {
    done.row::<Row>(i)?.map(ApprovalItem::try_from).transpose()
}

pub async fn for_step(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
    node_id: &str,
) -> Result<Option<ApprovalItem>> {
    let row: Option<Row> = crate::store::conn::query_as(format!(
        "{SELECT} WHERE i.run_id = $1 AND i.node_id = $2 AND i.superseded_at IS NULL"
    ))
    .bind(run_id)
    .bind(node_id)
    .fetch_optional(conn)
    .await?;
    row.map(ApprovalItem::try_from).transpose()
}

/// A run's items, each step's newest, oldest first.
pub async fn of_run(
    conn: &mut crate::store::conn::Conn,
    run_id: &RunId,
) -> Result<Vec<ApprovalItem>> {
    let rows: Vec<Row> = crate::store::conn::query_as(format!(
        "{SELECT} WHERE i.run_id = $1 AND i.superseded_at IS NULL ORDER BY i.created_at"
    ))
    .bind(run_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ApprovalItem::try_from).collect()
}

/// actor, via, decision, comment, output, at
type DecisionRow = (String, Option<String>, String, String, Option<String>, i64);

pub async fn decisions(
    conn: &mut crate::store::conn::Conn,
    item_id: &ItemId,
) -> Result<Vec<Decision>> {
    let rows: Vec<DecisionRow> = crate::store::conn::query_as(
        "SELECT actor, via, decision, comment, output, at FROM approval_decisions WHERE item_id = $1 ORDER BY at, rowid",
    )
    .bind(item_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(actor, via, decision, comment, output, at)| {
            Ok(Decision {
                actor,
                via,
                decision,
                comment,
                output: output.as_deref().map(parse).transpose()?,
                at,
            })
        })
        .collect()
}

/// Up to `limit` decided items of a workflow (one node of it, if given),
/// oldest decision first, after the item `after` (its decision time and id).
pub async fn decided(
    conn: &mut crate::store::conn::Conn,
    workflow_id: &str,
    node_id: Option<&str>,
    after: Option<(i64, &ItemId)>,
    limit: i64,
) -> Result<Vec<ApprovalItem>> {
    let rows: Vec<Row> = crate::store::conn::query_as(format!(
        "{SELECT} WHERE i.workflow_id = $1 AND ($2 IS NULL OR i.node_id = $2) AND i.status != 'pending'
           AND ($3 IS NULL OR i.decided_at > $3 OR (i.decided_at = $3 AND i.id > $4))
         ORDER BY i.decided_at, i.id LIMIT $5"
    ))
    .bind(workflow_id)
    .bind(node_id)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ApprovalItem::try_from).collect()
}

/// Who is asking, for "items this person may decide": their role is among
/// the deciders (or the role the item was escalated to) or they are named,
/// and they did not start the run unless that is allowed. (The server
/// checks again with `may_decide` before any decision.)
pub struct Decider<'a> {
    pub role: &'a str,
    /// The person's username (None: a token of nobody's, never named).
    pub name: Option<&'a str>,
    /// The person (`Principal::who`), compared with who started the run.
    pub who: &'a str,
}

/// `status` and the filter's conditions over `approval_items i`, only
/// those it sets (see `conn::Where`). `roles` and `users` are JSON arrays
/// of role names and usernames, which never hold a quote (both are
/// checked words), so a quoted name found in the text is an element:
/// `instr` instead of `json_each` per row.
fn item_filter<'a>(
    status: &str,
    f: &'a ApprovalFilter,
    who: Option<&Decider<'a>>,
    now: i64,
) -> Where<'a> {
    let mut w = Where::new(status);
    if let Some(s) = &f.workflow {
        w.and("instr(lower(i.workflow_name), lower(?1)) > 0", s);
    }
    if let Some(s) = &f.step {
        w.and(
            "(instr(lower(i.node_name), lower(?1)) > 0 OR instr(lower(i.node_id), lower(?1)) > 0)",
            s,
        );
    }
    if let Some(r) = &f.reason {
        w.and("i.reason = ?1", r);
    }
    if f.overdue {
        w.and("(i.deadline_at IS NOT NULL AND i.deadline_at < ?1)", now);
    }
    if let Some(d) = who {
        w.and_with(
            "(instr(i.users, '\"' || ?2 || '\"') > 0
               OR (i.escalated_to IS NOT NULL AND i.escalated_to = ?1)
               OR (i.escalated_to IS NULL AND instr(i.roles, '\"' || ?1 || '\"') > 0))
             AND (i.allow_self OR i.started_by != ?3)",
            vec![d.role.arg(), d.name.arg(), d.who.arg()],
        );
    }
    w
}

/// One page of items matching a checked filter (`ApprovalFilter::cleaned`)
/// and the number matching in all: pending items most urgent first
/// (nearest deadline, then newest), decided ones newest decision first.
/// With `who`, only the items that person may decide.
pub async fn search(
    conn: &mut crate::store::conn::Conn,
    f: &ApprovalFilter,
    who: Option<&Decider<'_>>,
    now: i64,
) -> Result<ApprovalPage> {
    // `status` is one of four known words (checked by `cleaned`), so the
    // condition is literal SQL and the status index serves it.
    let (status, order) = match f.status.as_str() {
        "approved" => ("i.status = 'approved'", "i.decided_at DESC"),
        "rejected" => ("i.status = 'rejected'", "i.decided_at DESC"),
        "cancelled" => ("i.status = 'cancelled'", "i.decided_at DESC"),
        "decided" => ("i.status != 'pending'", "i.decided_at DESC"),
        // An undecided item's run is running: a run's end cancels its
        // undecided items in the same transaction (`ops::progress`'s
        // `end_run_as`, the one way a run ends; migration
        // 20261206000001 closed those older runs left). So the inbox
        // reads no run: looking each item's run up was most of the count
        // over 10,000 items (`inbox-10k`).
        _ => (
            "i.status = 'pending'",
            "i.deadline_at IS NULL, i.deadline_at, i.created_at DESC",
        ),
    };
    let filter = item_filter(status, f, who, now);
    let mut count = crate::store::conn::query_scalar(format!(
        "SELECT COUNT(*) FROM approval_items i WHERE {}",
        filter.sql()
    ));
    for a in filter.args() {
        count = count.bind(a);
    }
    let total: i64 = count.fetch_one(&mut *conn).await?;
    let items = if f.limit == 0 || f.offset >= total {
        vec![]
    } else {
        let n = filter.next();
        let mut page = crate::store::conn::query_as::<Row>(format!(
            "{SELECT} WHERE {} ORDER BY {order} LIMIT ${n} OFFSET ${}",
            filter.sql(),
            n + 1
        ));
        for a in filter.args() {
            page = page.bind(a);
        }
        let rows = page
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(&mut *conn)
            .await?;
        rows.into_iter()
            .map(ApprovalItem::try_from)
            .collect::<Result<_>>()?
    };
    Ok(ApprovalPage { items, total })
}
