//! Who may do what: roles, permissions, and the rules for names and
//! passwords. Pure, so the browser hides what the server would refuse.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, tokens and secrets.
    Admin,
    /// Workflows and runs.
    Editor,
    /// Decides the approvals they are eligible for.
    Approver,
    /// Reads everything, changes nothing.
    Viewer,
}

pub const ROLES: [Role; 4] = [Role::Admin, Role::Editor, Role::Approver, Role::Viewer];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Permission {
    /// See workflows, runs, approvals and the audit trail.
    Read,
    /// Create, change and delete workflows.
    EditWorkflows,
    /// Start, cancel, retry and re-run runs.
    OperateRuns,
    /// Decide approval items (subject to each item's own rules).
    DecideApprovals,
    /// Users, API tokens, secrets and settings.
    Administer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
        }
    }

    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Editor => matches!(p, Read | EditWorkflows | OperateRuns),
            Role::Approver => matches!(p, Read | DecideApprovals),
            Role::Viewer => matches!(p, Read),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ROLES
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_lowercase())
            .ok_or_else(|| format!("'{s}' is not a role; use admin, editor, approver or viewer"))
    }
}

/// Who is asking: a person signed in, or an API token. A token acts for
/// the person who created it: approval rules (named approvers, N-of-M,
/// self-approval) see that person, and the audit trail shows both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Principal {
    /// For the audit trail: `user:<name>`, `user:<name> via token:<id>`
    /// for a person's token, `token:<id>` for a token of nobody's (made
    /// from the command line).
    pub actor: String,
    pub role: Role,
    /// The person's username (a token's name for tokens).
    pub name: String,
    pub display_name: String,
    pub is_token: bool,
    /// The username of the person this is: the signed-in person, or the
    /// person who created the token.
    #[serde(default)]
    pub person: Option<String>,
}

/// Joins a person's actor and the token they act through.
pub const VIA: &str = " via ";

/// The person part of an actor: `user:alice` of `user:alice via token:t`.
/// A rule that compares people compares these.
pub fn person_of(actor: &str) -> &str {
    actor.split_once(VIA).map_or(actor, |(who, _)| who)
}

impl Principal {
    /// A signed-in person.
    pub fn user(name: &str, role: Role) -> Principal {
        Principal {
            actor: format!("user:{name}"),
            role,
            name: name.into(),
            display_name: name.into(),
            is_token: false,
            person: Some(name.into()),
        }
    }

    /// An API token `id` named `name`, created by `created_by` (an actor):
    /// it acts for that person when it was a person.
    pub fn token(id: &str, name: &str, role: Role, created_by: &str) -> Principal {
        let person = person_of(created_by)
            .strip_prefix("user:")
            .map(str::to_string);
        Principal {
            actor: match &person {
                Some(p) => format!("user:{p}{VIA}token:{id}"),
                None => format!("token:{id}"),
            },
            role,
            name: name.into(),
            display_name: format!("token {name}"),
            is_token: true,
            person,
        }
    }

    /// Who this is for the rules: `user:<name>`, or the token itself.
    pub fn who(&self) -> &str {
        person_of(&self.actor)
    }

    /// The token a person acts through, if they do.
    pub fn via(&self) -> Option<&str> {
        self.actor.split_once(VIA).map(|(_, t)| t)
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role.allows(p)
    }
}

pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;

/// 2–64 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
pub fn check_username(s: &str) -> Result<(), String> {
    let ok_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let first = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !(2..=64).contains(&s.len()) || !ok_chars || !first {
        return Err(
            "a username has 2 to 64 letters, digits, '.', '_' or '-', and starts with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

pub fn check_password(s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if n < MIN_PASSWORD {
        return Err(format!(
            "the password needs at least {MIN_PASSWORD} characters"
        ));
    }
    if n > MAX_PASSWORD {
        return Err(format!(
            "the password may have at most {MAX_PASSWORD} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    #[test]
    fn the_role_matrix() {
        let all = [
            Read,
            EditWorkflows,
            OperateRuns,
            DecideApprovals,
            Administer,
        ];
        let allowed = |r: Role| {
            all.iter()
                .filter(|p| r.allows(**p))
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(allowed(Role::Admin), all);
        assert_eq!(allowed(Role::Editor), [Read, EditWorkflows, OperateRuns]);
        assert_eq!(allowed(Role::Approver), [Read, DecideApprovals]);
        assert_eq!(allowed(Role::Viewer), [Read]);
        assert_eq!("Editor".parse::<Role>(), Ok(Role::Editor));
        assert!(
            "root"
                .parse::<Role>()
                .unwrap_err()
                .contains("admin, editor")
        );
    }

    #[test]
    fn names_and_passwords() {
        assert!(check_username("alice.b-2").is_ok());
        for bad in ["a", "-alice", "al ice", "<script>", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(check_password("short").is_err());
        assert!(check_password("long enough!").is_ok());
        assert!(check_password(&"p".repeat(300)).is_err());
    }
}
