use super::messages::*;
use super::*;
use crate::domain::approvals::ApprovalItem;
use serde_json::json;

fn item() -> ApprovalItem {
    serde_json::from_value(json!({
        "id": "apv_1", "run_id": "run_9", "node_id": "n", "workflow_id": "w", "workflow_name": "Invoices",
        "node_name": "Check amount", "reason": "approval", "status": "pending",
        "title": "Pay <ACME> & co\r\nBcc: evil@example.com", "instructions": "Look at the amount.",
        "roles": ["approver"], "users": [], "required": 1, "allow_self": false,
        "started_by": "user:sam", "form": [], "proposed": {}, "context": {}, "deadline_at": 1_800_000_000_000i64,
        "escalated_to": null, "created_at": 1, "decided_at": null, "decided_by": null,
        "final_output": null, "comment": null, "approvals": 0
    }))
    .unwrap()
}

fn smtp() -> SmtpSettings {
    SmtpSettings {
        host: "smtp.example.com".into(),
        port: 587,
        security: SmtpSecurity::StartTls,
        username: Some("ops".into()),
        password_secret: Some("SMTP_PASSWORD".into()),
        from: "Stepwise <stepwise@example.com>".into(),
    }
}

#[test]
fn good_smtp_settings_have_no_problems() {
    assert!(smtp().problems().is_empty(), "{:?}", smtp().problems());
    let plain = SmtpSettings {
        username: None,
        password_secret: None,
        security: SmtpSecurity::None,
        host: "127.0.0.1".into(),
        port: 2525,
        from: "ops@example.com".into(),
    };
    assert!(plain.problems().is_empty());
}

#[test]
fn careless_smtp_settings_are_told_what_to_fix() {
    let mut s = smtp();
    s.host = "smtp.example.com\r\nRCPT TO:<x@y>".into();
    s.port = 0;
    s.password_secret = Some("lower case".into());
    s.from = "not an address".into();
    let p = s.problems().join("; ");
    assert!(p.contains("host must be"), "{p}");
    assert!(p.contains("port must be between 1 and 65535"), "{p}");
    assert!(p.contains("password_secret must name a secret"), "{p}");
    assert!(
        p.contains("from: 'not an address' is not an email address"),
        "{p}"
    );
    let mut s = smtp();
    s.username = None;
    assert!(s.problems()[0].contains("needs a username"));
    let blank = SmtpSettings {
        username: Some("  ".into()),
        password_secret: Some("".into()),
        ..smtp()
    }
    .tidied();
    assert_eq!((blank.username, blank.password_secret), (None, None));
}

#[test]
fn email_addresses_are_checked_strictly() {
    for ok in ["a@b.c", "first.last+tag@mail.example.com", "x@localhost"] {
        assert!(check_email(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@b..c",
        "a b@c.d",
        "a@b.c\r\nBcc: x@y.z",
        "<a@b.c>",
        "a@-b.c",
        &format!("{}@b.c", "x".repeat(65)),
    ] {
        let e = check_email(bad).unwrap_err();
        assert!(e.contains("is not an email address"), "{bad}: {e}");
    }
    assert!(check_mailbox("Ops team <ops@example.com>").is_ok());
    assert!(check_mailbox("Ops <ops@example.com").is_err());
    assert!(check_mailbox("\"Ops\" <ops@example.com>").is_err());
}

#[test]
fn an_item_is_announced_once_for_each_thing_that_happens() {
    let hour = 3_600_000;
    // no deadline: opened once, then nothing more can happen
    assert_eq!(
        next_announcement(0, false, 0, None, 10),
        Some((Announcement::Opened, ALL_ANNOUNCED))
    );
    assert_eq!(
        next_announcement(0, false, 0, Some(24 * hour), 10),
        Some((Announcement::Opened, 1))
    );
    // a day's deadline: opened, then reminded an hour before
    let d = 24 * hour;
    assert_eq!(next_announcement(1, false, 0, Some(d), d - hour - 1), None);
    assert_eq!(
        next_announcement(1, false, 0, Some(d), d - hour),
        Some((Announcement::DueSoon, 5))
    );
    assert_eq!(next_announcement(5, false, 0, Some(d), d - 10), None);
    // a 10-minute deadline: a quarter of it before (7.5 minutes in)
    assert_eq!(remind_at(0, 600_000), 450_000);
    // found late, already near: the opening stands for the reminder
    assert_eq!(
        next_announcement(0, false, 0, Some(600_000), 500_000),
        Some((Announcement::Opened, 5))
    );
    // escalated: once, whatever came before, and nothing after
    assert_eq!(
        next_announcement(1, true, 0, None, 10),
        Some((Announcement::Escalated, ALL_ANNOUNCED))
    );
    assert_eq!(
        next_announcement(0, true, 0, None, 10),
        Some((Announcement::Escalated, ALL_ANNOUNCED))
    );
    assert_eq!(next_announcement(ALL_ANNOUNCED, true, 0, None, 10), None);
}

#[test]
fn the_digest_is_due_once_a_day_after_its_hour() {
    let day = 86_400_000;
    let eight = 8 * 3_600_000;
    let today = 20_000 * day;
    assert!(digest_due(None, today + eight, 8));
    assert!(!digest_due(Some(today + eight), today + eight + 1000, 8));
    // before 08:00 yesterday's slot counts
    assert!(!digest_due(
        Some(today - day + eight + 5),
        today + eight - 1,
        8
    ));
    assert!(digest_due(Some(today - day + eight - 5), today + 1, 8));
    assert!(digest_due(Some(today + eight - 1), today + eight, 8));
}

#[test]
fn the_email_says_what_is_asked_and_links_to_the_item() {
    let i = item();
    let link = item_link("https://flow.example.com/", "apv_1");
    assert_eq!(link, "https://flow.example.com/approvals/apv_1");
    let m = approval_email(Announcement::Opened, &i, &link);
    // a workflow's text cannot break the subject into another header
    assert_eq!(
        m.subject,
        "Approval needed: Pay <ACME> & co Bcc: evil@example.com (Invoices)"
    );
    assert!(!m.subject.contains('\n'));
    for part in [
        "Look at the amount.",
        "Workflow: Invoices, step Check amount",
        "Run: run_9",
        "Deadline: 2027-01-15 08:00 UTC",
        "Decide it here: https://flow.example.com/approvals/apv_1",
    ] {
        assert!(m.text.contains(part), "{part} in {}", m.text);
    }
    let mut up = i.clone();
    up.escalated_to = Some("admin".into());
    let m = approval_email(Announcement::Escalated, &up, &link);
    assert!(m.subject.starts_with("Escalated to you: "));
    assert!(m.text.contains("it went to the role admin"));
}

#[test]
fn the_webhook_body_is_slack_shaped_with_markup_escaped() {
    let v = approval_webhook(Announcement::DueSoon, &item(), "http://x/approvals/apv_1");
    let t = v["text"].as_str().unwrap();
    assert!(t.starts_with(":raised_hand: *Deadline near*: <http://x/approvals/apv_1|Pay &lt;ACME&gt; &amp; co Bcc: evil@example.com>"), "{t}");
    assert!(t.contains("Workflow Invoices, step Check amount, run run_9."));
}

#[test]
fn the_digest_lists_each_item_with_its_link() {
    let m = digest_email(&[item(), item()], "http://h:3000");
    assert_eq!(m.subject, "2 approvals waiting for you");
    assert_eq!(m.text.matches("http://h:3000/approvals/apv_1").count(), 2);
    assert!(m.text.contains("Your inbox: http://h:3000/approvals"));
    assert_eq!(one_line(&"x".repeat(10), 5), "xxxx…");
}
