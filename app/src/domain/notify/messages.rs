//! The words of a notification: the email (subject and text) and the
//! Slack-shaped webhook body for an approval item, and the daily digest.
//! Everything taken from a workflow is made one line where it lands in a
//! header and is escaped where Slack would read it as markup.

use super::Announcement;
use crate::domain::approvals::ApprovalItem;
use crate::domain::records::format_time;
use serde_json::{Value, json};

/// An email's subject and plain text.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub subject: String,
    pub text: String,
}

/// The page where a person decides the item.
pub fn item_link(base_url: &str, item_id: &str) -> String {
    format!("{}/approvals/{item_id}", base_url.trim_end_matches('/'))
}

/// Text for a one-line place (a subject, a list line): control characters
/// become spaces and it is cut to `max` characters.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

fn headline(a: Announcement) -> &'static str {
    match a {
        Announcement::Opened => "Approval needed",
        Announcement::Escalated => "Escalated to you",
        Announcement::DueSoon => "Deadline near",
    }
}

fn why(item: &ApprovalItem) -> &'static str {
    if item.reason == "confidence" {
        "the run's confidence fell below its threshold, so a person checks this step"
    } else {
        "an approval step asks a person to decide"
    }
}

fn deadline(item: &ApprovalItem) -> String {
    item.deadline_at
        .map(format_time)
        .unwrap_or_else(|| "none".into())
}

/// The email for one item.
pub fn approval_email(a: Announcement, item: &ApprovalItem, link: &str) -> Message {
    let subject = one_line(
        &format!("{}: {} ({})", headline(a), item.title, item.workflow_name),
        200,
    );
    let mut text = String::new();
    if !item.instructions.trim().is_empty() {
        text.push_str(item.instructions.trim());
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "What: {}\nWorkflow: {}, step {}\nRun: {}\nDeadline: {}\nWhy: {}\n",
        one_line(&item.title, 500),
        one_line(&item.workflow_name, 200),
        one_line(&item.node_name, 200),
        item.run_id,
        deadline(item),
        why(item),
    ));
    if let Some(role) = &item.escalated_to {
        text.push_str(&format!(
            "Escalated: nobody decided before the deadline, so it went to the role {role}.\n"
        ));
    }
    text.push_str(&format!("\nDecide it here: {link}\n"));
    Message { subject, text }
}

/// Slack reads `&`, `<` and `>` as markup.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Slack-compatible body (`{"text": …}`) for one item.
pub fn approval_webhook(a: Announcement, item: &ApprovalItem, link: &str) -> Value {
    let text = format!(
        ":raised_hand: *{}*: <{}|{}>\nWorkflow {}, step {}, run {}. Deadline: {}.",
        headline(a),
        link,
        slack_escape(&one_line(&item.title, 300)),
        slack_escape(&one_line(&item.workflow_name, 200)),
        slack_escape(&one_line(&item.node_name, 200)),
        item.run_id,
        deadline(item),
    );
    json!({ "text": text })
}

/// One email listing every item a person may decide.
pub fn digest_email(items: &[ApprovalItem], base_url: &str) -> Message {
    let n = items.len();
    let subject = format!(
        "{n} approval{} waiting for you",
        if n == 1 { "" } else { "s" }
    );
    let mut text = String::from("These wait for your decision (most urgent first):\n\n");
    for item in items {
        text.push_str(&format!(
            "- {} ({}, deadline {})\n  {}\n",
            one_line(&item.title, 200),
            one_line(&item.workflow_name, 120),
            deadline(item),
            item_link(base_url, &item.id),
        ));
    }
    text.push_str(&format!(
        "\nYour inbox: {}/approvals\n",
        base_url.trim_end_matches('/')
    ));
    Message { subject, text }
}
