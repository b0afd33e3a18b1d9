//! Who acts in the simulation, and an oracle for who may decide an item,
//! written from the rules as a person reads them (not the product's code).

use app::domain::approvals::ApprovalItem;
use app::domain::auth::{Principal, Role};

pub struct Person {
    pub principal: Principal,
    /// The person behind it (None: a token of nobody's).
    pub username: Option<&'static str>,
    pub role: Role,
}

pub fn cast() -> Vec<Person> {
    let user = |name: &'static str, role| Person {
        principal: Principal::user(name, role),
        username: Some(name),
        role,
    };
    vec![
        user("ann", Role::Approver),
        user("bob", Role::Approver),
        user("fay", Role::Approver),
        user("cat", Role::Admin),
        user("gil", Role::Admin),
        user("dan", Role::Editor),
        user("eve", Role::Viewer),
        // ann's own token: it is ann
        Person {
            principal: Principal::token("tok_ann", "ann-ci", Role::Approver, "user:ann"),
            username: Some("ann"),
            role: Role::Approver,
        },
        // a token nobody owns, named like a person: it is nobody
        Person {
            principal: Principal::token("tok_gil", "gil", Role::Approver, "cli"),
            username: None,
            role: Role::Approver,
        },
    ]
}

/// Who starts runs: ann (in the browser or through her token) or dan.
pub const STARTERS: [&str; 3] = ["user:ann", "user:ann via token:tok_ann", "user:dan"];

/// May `p` decide `item`, by the rules: a role that decides approvals;
/// named, or holding one of the item's roles (the escalation role once
/// escalated); and not the person who started the run unless allowed.
pub fn may(p: &Person, item: &ApprovalItem) -> bool {
    if !matches!(p.role, Role::Approver | Role::Admin) {
        return false;
    }
    let named = p
        .username
        .is_some_and(|u| item.users.iter().any(|n| n == u));
    let by_role = match &item.escalated_to {
        Some(r) => r == p.role.as_str(),
        None => item.roles.iter().any(|r| r == p.role.as_str()),
    };
    if !named && !by_role {
        return false;
    }
    let starter = item.started_by.strip_prefix("user:");
    if !item.allow_self && starter.is_some() && starter == p.username {
        return false;
    }
    true
}
