//! Telling people about work that waits for them: the instance's mail
//! server settings, each person's address and preference, which
//! announcement an approval item is due, and the messages themselves
//! (`messages`). Pure: the server's notifier applies these.

pub mod messages;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text (a relay on the same machine or network only).
    None,
    /// Plain, then upgraded with STARTTLS (usually port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl SmtpSecurity {
    pub const ALL: [SmtpSecurity; 3] = [Self::StartTls, Self::Tls, Self::None];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::StartTls => "starttls",
            Self::Tls => "tls",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            Self::None => "none (plain text)",
            Self::StartTls => "STARTTLS",
            Self::Tls => "TLS",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("security must be none, starttls or tls, not '{s}'"))
    }
}

/// The instance's mail server: used for approval notifications, digests
/// and Email steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Who signs in to the server (none: no authentication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The name of the secret holding the password; the secret must list
    /// the mail server's host among the hosts it may be sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    /// The sender, `stepwise@example.com` or `Stepwise <stepwise@example.com>`.
    pub from: String,
}

impl SmtpSettings {
    /// What is wrong, each naming the field and what it accepts.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let host = self.host.trim();
        if host.is_empty()
            || host.len() > 253
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        {
            out.push(format!(
                "host must be a mail server's name or address (e.g. smtp.example.com), not '{}'",
                clip(&self.host)
            ));
        }
        if self.port == 0 {
            out.push("port must be between 1 and 65535 (usually 587, 465 or 25)".into());
        }
        if self
            .username
            .as_deref()
            .is_some_and(|u| u.len() > 256 || has_break(u))
        {
            out.push("username must be one line of at most 256 characters".into());
        }
        if self.password_secret.is_some() && self.username.is_none() {
            out.push("a password secret needs a username to sign in with".into());
        }
        if let Some(s) = &self.password_secret
            && !valid_secret_name(s)
        {
            out.push(format!(
                "password_secret must name a secret (capital letters, digits and '_'), not '{}'",
                clip(s)
            ));
        }
        if let Err(e) = check_mailbox(&self.from) {
            out.push(format!("from: {e}"));
        }
        out
    }

    /// The settings with blank optional fields as none and text trimmed.
    pub fn tidied(mut self) -> Self {
        self.host = self.host.trim().to_string();
        self.from = self.from.trim().to_string();
        let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        self.username = blank(self.username);
        self.password_secret = blank(self.password_secret);
        self
    }
}

fn valid_secret_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn has_break(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// An address `local@domain`: one line, at most 254 characters, without
/// spaces, quotes or angle brackets. Deliberately stricter than RFC 5322:
/// what passes here every mail server accepts.
pub fn check_email(addr: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "'{}' is not an email address (expected name@example.com)",
            clip(addr)
        )
    };
    if addr.len() > 254
        || addr
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:\\[]".contains(c))
    {
        return Err(bad());
    }
    let (local, domain) = addr.rsplit_once('@').ok_or_else(bad)?;
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'));
    if local.is_empty() || local.len() > 64 || local.contains('@') || !labels_ok {
        return Err(bad());
    }
    Ok(())
}

/// An address, optionally with a display name: `Ops <ops@example.com>`.
pub fn check_mailbox(s: &str) -> Result<(), String> {
    let s = s.trim();
    if has_break(s) {
        return Err("an address is one line".into());
    }
    match s.rsplit_once('<') {
        Some((name, rest)) => {
            let addr = rest
                .strip_suffix('>')
                .ok_or_else(|| format!("'{}' has '<' without a closing '>'", clip(s)))?;
            if name.contains(['"', '<', '>']) {
                return Err(format!(
                    "the name in '{}' may not hold quotes or brackets",
                    clip(s)
                ));
            }
            check_email(addr)
        }
        None => check_email(s),
    }
}

/// When a person hears of the items they may decide.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum NotifyPref {
    /// An email for each item as it opens, is escalated or nears its deadline.
    #[default]
    Each,
    /// One email a day listing what waits.
    Digest,
    /// No email.
    Off,
}

impl NotifyPref {
    pub const ALL: [NotifyPref; 3] = [Self::Each, Self::Digest, Self::Off];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Each => "each",
            Self::Digest => "digest",
            Self::Off => "off",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            Self::Each => "each item",
            Self::Digest => "daily digest",
            Self::Off => "no email",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| format!("notifications must be each, digest or off, not '{s}'"))
    }
}

/// What an approval item is announced for. Each is sent once per item
/// (its bit in the item's `notified`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announcement {
    /// The item opened.
    Opened,
    /// Its deadline passed and it went to another role.
    Escalated,
    /// Its deadline is near.
    DueSoon,
}

impl Announcement {
    pub const fn bit(self) -> i64 {
        match self {
            Self::Opened => 1,
            Self::Escalated => 2,
            Self::DueSoon => 4,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "approval.opened",
            Self::Escalated => "approval.escalated",
            Self::DueSoon => "approval.due_soon",
        }
    }
}

/// Every bit set: nothing more to announce.
pub const ALL_ANNOUNCED: i64 = 7;

/// How long before its deadline an item is "due soon": a quarter of the
/// time it was given, at most an hour.
pub fn remind_at(created_at: i64, deadline_at: i64) -> i64 {
    deadline_at - ((deadline_at - created_at) / 4).clamp(0, 3_600_000)
}

/// What an item is due to be announced for now, and the `notified` bits
/// to store once it is. One announcement at a time, the most pressing:
/// an escalation replaces the opening (the audience changed), and an
/// opening that is already near the deadline stands for the reminder.
/// An item without a deadline is done once opened.
pub fn next_announcement(
    notified: i64,
    escalated: bool,
    created_at: i64,
    deadline_at: Option<i64>,
    now: i64,
) -> Option<(Announcement, i64)> {
    let has = |a: Announcement| notified & a.bit() != 0;
    let near = deadline_at.is_some_and(|d| now >= remind_at(created_at, d));
    if escalated {
        return (!has(Announcement::Escalated)).then_some((Announcement::Escalated, ALL_ANNOUNCED));
    }
    if !has(Announcement::Opened) {
        let mut bits = notified | Announcement::Opened.bit();
        if deadline_at.is_none() {
            // without a deadline it can neither near one nor be escalated
            bits = ALL_ANNOUNCED;
        } else if near {
            bits |= Announcement::DueSoon.bit();
        }
        return Some((Announcement::Opened, bits));
    }
    (near && !has(Announcement::DueSoon)).then_some((
        Announcement::DueSoon,
        notified | Announcement::DueSoon.bit(),
    ))
}

const DAY_MS: i64 = 86_400_000;

/// Whether a person's daily digest is due: the latest `hour`:00 UTC not
/// after `now` has passed since the last one (or there was none).
pub fn digest_due(last: Option<i64>, now: i64, hour: u32) -> bool {
    let mut slot = now.div_euclid(DAY_MS) * DAY_MS + i64::from(hour.min(23)) * 3_600_000;
    if slot > now {
        slot -= DAY_MS;
    }
    last.is_none_or(|l| l < slot)
}

/// A notification on its way (or given up), as an admin sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct OutboxEntry {
    pub id: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address or the webhook's host.
    pub destination: String,
    pub subject: String,
    /// What it announces (`approval.opened`, `alert`, `digest`, …).
    pub reason: String,
    pub workflow_id: Option<String>,
    pub item_id: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// None while still being tried.
    pub delivered_at: Option<i64>,
    /// True once retries were given up.
    pub given_up: bool,
}
