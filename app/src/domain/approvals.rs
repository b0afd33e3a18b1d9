//! Approval items and the rules for deciding them: who may, with what
//! answers, and what the step's output becomes. Pure: the server enforces
//! these, the browser uses them to show only what a person may do.

use super::auth::{Permission, Principal, person_of};
use super::graph::{FormField, FormFieldKind};
use super::ids::{ItemId, RunId};
use super::run::ItemStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApprovalItem {
    pub id: ItemId,
    pub run_id: RunId,
    pub node_id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub node_name: String,
    /// `approval` (an Approval step) or `confidence` (a confidence gate).
    pub reason: String,
    pub status: ItemStatus,
    pub title: String,
    pub instructions: String,
    pub roles: Vec<String>,
    pub users: Vec<String>,
    pub required: i64,
    pub allow_self: bool,
    pub started_by: String,
    pub form: Vec<FormField>,
    pub proposed: Value,
    /// `{input, steps: {id: {output, confidence}}, cum_confidence}`.
    pub context: Value,
    pub deadline_at: Option<i64>,
    pub escalated_to: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub final_output: Option<Value>,
    pub comment: Option<String>,
    /// With N-of-M, while pending: the output as earlier approvers left it
    /// (what the next one sees and edits).
    #[serde(default)]
    pub current_output: Option<Value>,
    /// Approvals so far (for N-of-M).
    pub approvals: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Decision {
    /// The person (`user:<name>`; `token:<id>` for a token of nobody's).
    pub actor: String,
    /// The token they decided through, if they did.
    #[serde(default)]
    pub via: Option<String>,
    pub decision: String,
    pub comment: String,
    /// The output as this person edited it (None: left as it was).
    #[serde(default)]
    pub output: Option<Value>,
    pub at: i64,
}

/// What an inbox or history list asks for (the server functions and the
/// REST query alike). Empty text means "any".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalFilter {
    /// `pending` (the default), `approved`, `rejected`, `cancelled` (the run
    /// ended first) or `decided` (any of those three).
    pub status: String,
    /// Every pending item, not only those the caller may decide.
    pub all: bool,
    /// Part of the workflow's name (any case).
    pub workflow: Option<String>,
    /// Part of the step's name or id (any case).
    pub step: Option<String>,
    /// `approval` (an Approval step) or `confidence` (a confidence gate).
    pub reason: Option<String>,
    /// Only items past their deadline.
    pub overdue: bool,
    /// Page size, 0 (only the total) to 500.
    pub limit: i64,
    /// Items to skip (the inbox is ordered by urgency, which changes as
    /// deadlines pass, so pages are counted rather than keyed).
    pub offset: i64,
}

impl Default for ApprovalFilter {
    /// The first page of 50 pending items the caller may decide.
    fn default() -> Self {
        ApprovalFilter {
            status: String::new(),
            all: false,
            workflow: None,
            step: None,
            reason: None,
            overdue: false,
            limit: 50,
            offset: 0,
        }
    }
}

impl ApprovalFilter {
    pub const MAX_LIMIT: i64 = 500;

    /// Checks the fields, with empty text meaning "not set"; the error
    /// names the field and what it accepts.
    pub fn cleaned(mut self) -> Result<Self, String> {
        for f in [&mut self.workflow, &mut self.step, &mut self.reason] {
            if f.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *f = None;
            }
        }
        if self.status.is_empty() {
            self.status = "pending".into();
        }
        if !matches!(
            self.status.as_str(),
            "pending" | "approved" | "rejected" | "cancelled" | "decided"
        ) {
            return Err(format!(
                "status '{}' is not one of pending, approved, rejected, cancelled, decided",
                self.status
            ));
        }
        if let Some(r) = &self.reason
            && !matches!(r.as_str(), "approval" | "confidence")
        {
            return Err(format!("reason '{r}' is not one of approval, confidence"));
        }
        if !(0..=Self::MAX_LIMIT).contains(&self.limit) {
            return Err(format!(
                "limit {} is outside 0 to {}",
                self.limit,
                Self::MAX_LIMIT
            ));
        }
        if self.offset < 0 {
            return Err(format!("offset {} is negative", self.offset));
        }
        Ok(self)
    }
}

/// One page of a list and how many items match in all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApprovalPage {
    pub items: Vec<ApprovalItem>,
    pub total: i64,
}

/// Why `p` may not decide `item`, or Ok.
pub fn may_decide(p: &Principal, item: &ApprovalItem) -> Result<(), String> {
    if !p.can(Permission::DecideApprovals) {
        return Err(format!("your role ({}) may not decide approvals", p.role));
    }
    let roles: Vec<&str> = match &item.escalated_to {
        Some(r) => vec![r.as_str()],
        None => item.roles.iter().map(String::as_str).collect(),
    };
    // a token counts as the person who created it, never by its own name
    let named = p.person.as_ref().is_some_and(|n| item.users.contains(n));
    let by_role = roles.contains(&p.role.as_str());
    if !named && !by_role {
        let mut who: Vec<String> = roles.iter().map(|r| format!("role {r}")).collect();
        if item.escalated_to.is_none() {
            who.extend(item.users.iter().cloned());
        }
        return Err(format!("only {} may decide this item", who.join(", ")));
    }
    if !item.allow_self && p.who() == person_of(&item.started_by) {
        return Err(if p.via().is_some() {
            "you started this run (this token acts for you), so someone else must approve it".into()
        } else {
            "you started this run, so someone else must approve it".into()
        });
    }
    Ok(())
}

/// Checks the form answers against the fields; the message names the field.
pub fn check_answers(form: &[FormField], answers: &Map<String, Value>) -> Result<(), String> {
    for f in form {
        let v = answers
            .get(&f.name)
            .filter(|v| !v.is_null() && **v != Value::String(String::new()));
        let Some(v) = v else {
            if f.required {
                return Err(format!("'{}' is required", f.label));
            }
            continue;
        };
        let ok = match &f.kind {
            FormFieldKind::Text => v.is_string(),
            FormFieldKind::Number => v.is_number(),
            FormFieldKind::Boolean => v.is_boolean(),
            FormFieldKind::Json => true,
            FormFieldKind::Choice { options } => {
                v.as_str().is_some_and(|s| options.iter().any(|o| o == s))
            }
        };
        if !ok {
            let want = match &f.kind {
                FormFieldKind::Text => "text".to_string(),
                FormFieldKind::Number => "a number".to_string(),
                FormFieldKind::Boolean => "yes or no".to_string(),
                FormFieldKind::Json => "JSON".to_string(),
                FormFieldKind::Choice { options } => format!("one of {}", options.join(", ")),
            };
            return Err(format!("'{}' must be {want}", f.label));
        }
    }
    if let Some(extra) = answers.keys().find(|k| !form.iter().any(|f| &f.name == *k)) {
        return Err(format!("the form has no field '{extra}'"));
    }
    Ok(())
}

/// The step's output: the proposed output (as the reviewer edited it, if
/// they did) with the form answers set on it.
pub fn final_output(proposed: &Value, edited: Option<Value>, answers: Map<String, Value>) -> Value {
    let mut out = edited.unwrap_or_else(|| proposed.clone());
    if answers.is_empty() {
        return out;
    }
    if !out.is_object() {
        out = serde_json::json!({ "value": out });
    }
    let obj = out.as_object_mut().expect("made an object");
    for (k, v) in answers {
        obj.insert(k, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::Role;
    use serde_json::json;

    fn person(name: &str, role: Role) -> Principal {
        Principal::user(name, role)
    }

    fn item() -> ApprovalItem {
        serde_json::from_value(json!({
            "id": "apv_1", "run_id": "r", "node_id": "n", "workflow_id": "w", "workflow_name": "W",
            "node_name": "N", "reason": "approval", "status": "pending", "title": "T", "instructions": "",
            "roles": ["approver"], "users": ["carol"], "required": 1, "allow_self": false,
            "started_by": "user:sam", "form": [], "proposed": {}, "context": {}, "deadline_at": null,
            "escalated_to": null, "created_at": 1, "decided_at": null, "decided_by": null,
            "final_output": null, "comment": null, "approvals": 0
        }))
        .unwrap()
    }

    #[test]
    fn who_may_decide() {
        let i = item();
        assert!(may_decide(&person("ann", Role::Approver), &i).is_ok());
        // named, and an admin (who may decide) by name
        assert!(may_decide(&person("carol", Role::Admin), &i).is_ok());
        let e = may_decide(&person("ed", Role::Editor), &i).unwrap_err();
        assert!(e.contains("may not decide approvals"), "{e}");
        let e = may_decide(&person("bob", Role::Admin), &i).unwrap_err();
        assert!(e.contains("only role approver, carol"), "{e}");
        let e = may_decide(&person("sam", Role::Approver), &i).unwrap_err();
        assert!(e.contains("you started this run"), "{e}");
        let mut own = i.clone();
        own.allow_self = true;
        assert!(may_decide(&person("sam", Role::Approver), &own).is_ok());
        let mut up = i.clone();
        up.escalated_to = Some("admin".into());
        assert!(
            may_decide(&person("ann", Role::Approver), &up).is_err(),
            "escalation moves it"
        );
        assert!(may_decide(&person("bob", Role::Admin), &up).is_ok());
    }

    #[test]
    fn answers_and_output() {
        let form: Vec<FormField> = serde_json::from_value(json!([
            {"name": "centre", "label": "Cost centre", "type": "text", "required": true},
            {"name": "amount", "label": "Amount", "type": "number"},
            {"name": "tier", "label": "Tier", "type": "choice", "options": ["a", "b"]}
        ]))
        .unwrap();
        let ok = json!({"centre": "C-1", "amount": 5, "tier": "b"});
        assert!(check_answers(&form, ok.as_object().unwrap()).is_ok());
        let e = check_answers(&form, json!({"amount": 5}).as_object().unwrap()).unwrap_err();
        assert_eq!(e, "'Cost centre' is required");
        let e = check_answers(
            &form,
            json!({"centre": "x", "amount": "5"}).as_object().unwrap(),
        )
        .unwrap_err();
        assert_eq!(e, "'Amount' must be a number");
        let e = check_answers(
            &form,
            json!({"centre": "x", "tier": "c"}).as_object().unwrap(),
        )
        .unwrap_err();
        assert_eq!(e, "'Tier' must be one of a, b");
        let e = check_answers(&form, json!({"centre": "x", "zzz": 1}).as_object().unwrap())
            .unwrap_err();
        assert!(e.contains("no field 'zzz'"));

        let proposed = json!({"amount": 1200, "vendor": "ACME"});
        assert_eq!(final_output(&proposed, None, Map::new()), proposed);
        let edited = json!({"amount": 1100, "vendor": "ACME"});
        let answers = json!({"centre": "C-1"}).as_object().unwrap().clone();
        assert_eq!(
            final_output(&proposed, Some(edited), answers),
            json!({"amount": 1100, "vendor": "ACME", "centre": "C-1"})
        );
    }
}

/// The run whose step started the item's run (a Sub-workflow step or a
/// For each item), with what the reviewer needs of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParentRun {
    pub run_id: String,
    pub node_id: String,
    pub workflow_name: String,
    /// For a For each item: its place in the list.
    pub item_index: Option<i64>,
    /// The parent run's input.
    pub input: Value,
}
