//! Notifications through the engine and a local mail server speaking real
//! SMTP: the people who may decide an approval item are emailed with a
//! link straight to it, the workflow's Slack-shaped webhook is told,
//! escalations and near deadlines are announced once each, digests go
//! once a day, and a failing mail server is retried and shown to admins
//! while the run goes on untouched.

use crate::approvals::{approval, flow, item};
use crate::common::receiver::hook;
use crate::common::smtp::{Mode, SmtpServer};
use crate::common::world::*;
use app::domain::auth::Role;
use app::domain::graph::{Deadline, DeadlineAction, NodeKind};
use app::domain::notify::{NotifyPref, SmtpSecurity, SmtpSettings};
use app::domain::run::RunStatus;
use app::ops::{accounts, notify, secrets};
use app::security::Sealer;
use serde_json::json;
use server::engine::notify::{Notified, NotifyConfig};

const BASE: &str = "http://stepwise.test";

fn cfg() -> NotifyConfig {
    NotifyConfig {
        base_url: BASE.into(),
        digest_hour: 8,
    }
}

fn sealer() -> Sealer {
    Sealer::new([9; 32])
}

async fn world() -> World {
    World::new().await.with_sealer(sealer())
}

async fn person(w: &World, name: &str, role: Role, email: Option<&str>, pref: NotifyPref) {
    let u = accounts::create_user(
        &w.db,
        "user:admin",
        name,
        name,
        "a long password 1",
        role,
        T0,
    )
    .await
    .unwrap();
    notify::set_contact(&w.db, "user:admin", &u.id, email, pref, T0)
        .await
        .unwrap();
}

/// Ann: an approver who wants an email for each item.
async fn ann(w: &World) {
    person(
        w,
        "ann",
        Role::Approver,
        Some("ann@example.com"),
        NotifyPref::Each,
    )
    .await;
}

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: Some("stepwise".into()),
        password_secret: Some("SMTP_PASSWORD".into()),
        from: "Stepwise <stepwise@example.com>".into(),
    }
}

/// A local mail server in `mode`, saved as the instance's, signing in
/// with a password kept as a secret.
async fn mail_server(w: &World, mode: Mode) -> SmtpServer {
    let smtp = SmtpServer::start(mode).await;
    secrets::set_secret(
        &w.db,
        &sealer(),
        "user:admin",
        "SMTP_PASSWORD",
        "s3cret pass",
        "127.0.0.1",
        T0,
    )
    .await
    .unwrap();
    notify::set_smtp(&w.db, "user:admin", Some(settings(smtp.port)), T0)
        .await
        .unwrap();
    smtp
}

fn deadline(
    mut a: app::domain::graph::Node,
    after_ms: u64,
    action: DeadlineAction,
) -> app::domain::graph::Node {
    if let NodeKind::Approval(cfg) = &mut a.kind {
        cfg.deadline = Some(Deadline { after_ms, action });
    }
    a
}

#[tokio::test]
async fn the_people_who_may_decide_are_emailed_a_link_to_the_item_and_the_webhook_is_told() {
    let w = world().await;
    let smtp = mail_server(&w, Mode::Accept).await;
    let slack = hook().await;
    ann(&w).await;
    person(
        &w,
        "ola",
        Role::Approver,
        Some("ola@example.com"),
        NotifyPref::Off,
    )
    .await;
    person(
        &w,
        "vic",
        Role::Viewer,
        Some("vic@example.com"),
        NotifyPref::Each,
    )
    .await;
    person(&w, "noe", Role::Approver, None, NotifyPref::Each).await;
    let mut def = flow(approval("ok", &["approver"], 1));
    def.settings.notify_webhook = Some(slack.url.clone());
    // a vendor name that tries to add a header to the email
    let run = w
        .start(
            def,
            json!({"amount": 900, "vendor": "ACME\r\nBcc: thief@example.com"}),
        )
        .await;
    w.idle().await;
    let it = item(&w, &run, "ok").await;

    let done = w.engine.notify_once(&cfg()).await.unwrap();
    assert_eq!(
        done,
        Notified {
            announced: 1,
            emails: 1,
            webhooks: 1,
            digests: 0,
            delivered: 2
        },
        "only ann may decide, has an address and wants each item"
    );
    let mail = smtp.wait_for(1).await;
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert_eq!(m.to, vec!["ann@example.com"]);
    assert_eq!(m.from, "stepwise@example.com");
    assert_eq!(
        m.auth,
        Some(("stepwise".into(), "s3cret pass".into())),
        "signed in with the secret"
    );
    assert_eq!(
        m.header("subject").unwrap(),
        "Approval needed: Approve ACME Bcc: thief@example.com (ok)"
            .replace("(ok)", &format!("({})", it.workflow_name))
    );
    assert_eq!(
        m.header("bcc"),
        None,
        "a workflow's text never becomes a header"
    );
    let text = m.text();
    let link = format!("{BASE}/approvals/{}", it.id);
    assert!(text.contains(&format!("Decide it here: {link}")), "{text}");
    assert!(text.contains("Check 900"), "the instructions: {text}");
    assert!(text.contains(&format!("Run: {run}")), "{text}");
    assert!(text.contains("Deadline: none"), "{text}");
    let told = slack.bodies.lock().unwrap().clone();
    assert_eq!(told.len(), 1);
    let t = told[0]["text"].as_str().unwrap();
    assert!(
        t.starts_with(&format!(
            ":raised_hand: *Approval needed*: <{link}|Approve ACME Bcc: thief@example.com>"
        )),
        "{t}"
    );

    // told once: another pass finds nothing new
    let again = w.engine.notify_once(&cfg()).await.unwrap();
    assert_eq!(again, Notified::default());
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(w.run(&run).await.run.status, RunStatus::Running);
}

#[tokio::test]
async fn a_near_deadline_and_an_escalation_are_announced_once_each_to_the_right_people() {
    let w = world().await;
    let smtp = mail_server(&w, Mode::Accept).await;
    ann(&w).await;
    person(
        &w,
        "ada",
        Role::Admin,
        Some("ada@example.com"),
        NotifyPref::Each,
    )
    .await;
    let a = deadline(
        approval("ok", &["approver"], 1),
        60_000,
        DeadlineAction::Escalate {
            role: "admin".into(),
        },
    );
    let run = w.start(flow(a), json!({"amount": 1, "vendor": "V"})).await;
    w.idle().await;
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().emails, 1);
    // a minute's deadline: "near" from 45 s on (a quarter before)
    w.clock.advance(44_000);
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().announced, 0);
    w.clock.advance(1_000);
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().emails, 1);
    // past the deadline it goes to the admins, who are told; ann is not
    w.clock.advance(16_000);
    w.idle().await;
    assert_eq!(
        item(&w, &run, "ok").await.escalated_to.as_deref(),
        Some("admin")
    );
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().emails, 1);
    assert_eq!(
        w.engine.notify_once(&cfg()).await.unwrap(),
        Notified::default()
    );
    let mail = smtp.wait_for(3).await;
    let seen: Vec<(String, String)> = mail
        .iter()
        .map(|m| {
            (
                m.to[0].clone(),
                m.header("subject")
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("ann@example.com".to_string(), "Approval needed".to_string()),
            ("ann@example.com".into(), "Deadline near".into()),
            ("ada@example.com".into(), "Escalated to you".into()),
        ]
    );
    assert!(mail[2].text().contains("it went to the role admin"));
}

#[tokio::test]
async fn the_daily_digest_lists_what_waits_once_a_day() {
    let w = world().await;
    let smtp = mail_server(&w, Mode::Accept).await;
    person(
        &w,
        "dee",
        Role::Approver,
        Some("dee@example.com"),
        NotifyPref::Digest,
    )
    .await;
    for vendor in ["First", "Second"] {
        w.start(
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": 1, "vendor": vendor}),
        )
        .await;
    }
    w.idle().await;
    // T0 is 08:00 UTC, the digest hour: one digest, and no email per item
    let done = w.engine.notify_once(&cfg()).await.unwrap();
    assert_eq!((done.announced, done.emails, done.digests), (2, 0, 1));
    let mail = smtp.wait_for(1).await;
    assert_eq!(
        mail[0].header("subject").unwrap(),
        "2 approvals waiting for you"
    );
    let text = mail[0].text();
    assert!(
        text.contains("Approve First") && text.contains("Approve Second"),
        "{text}"
    );
    assert_eq!(text.matches(&format!("{BASE}/approvals/apv_")).count(), 2);
    // not again the same day; again the next morning
    w.clock.advance(12 * 3_600_000);
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().digests, 0);
    w.clock.advance(12 * 3_600_000);
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().digests, 1);
    assert_eq!(smtp.wait_for(2).await.len(), 2);
}

#[tokio::test]
async fn a_failing_mail_server_is_retried_and_shown_to_admins_while_the_run_goes_on() {
    let w = world().await;
    let smtp = mail_server(&w, Mode::FailFirst(2)).await;
    ann(&w).await;
    let run = w
        .start(
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": 1, "vendor": "V"}),
        )
        .await;
    w.idle().await;
    let done = w.engine.notify_once(&cfg()).await.unwrap();
    assert_eq!((done.emails, done.delivered), (1, 0));
    let failing = notify::outbox(&w.db, true).await.unwrap();
    assert_eq!(failing.len(), 1);
    let f = &failing[0];
    assert_eq!(
        (
            f.channel.as_str(),
            f.destination.as_str(),
            f.attempts,
            f.given_up
        ),
        ("email", "ann@example.com", 1, false)
    );
    assert!(f.last_error.as_deref().unwrap().contains("451"), "{f:?}");
    assert!(
        f.last_error.as_deref().unwrap().contains("127.0.0.1"),
        "{f:?}"
    );
    // not before its backoff (20 s after the first failure)
    w.clock.advance(10_000);
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().delivered, 0);
    assert_eq!(smtp.attempts.load(std::sync::atomic::Ordering::SeqCst), 1);
    w.clock.advance(10_000);
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().delivered, 0);
    w.clock.advance(40_000);
    assert_eq!(w.engine.notify_once(&cfg()).await.unwrap().delivered, 1);
    assert_eq!(smtp.wait_for(1).await.len(), 1);
    assert!(notify::outbox(&w.db, true).await.unwrap().is_empty());
    let all = notify::outbox(&w.db, false).await.unwrap();
    assert_eq!((all[0].attempts, all[0].delivered_at.is_some()), (3, true));
    // the run never waited on any of it
    assert_eq!(w.run(&run).await.run.status, RunStatus::Running);
}

#[tokio::test]
async fn a_refusal_the_server_will_repeat_is_given_up_at_once_and_kept_for_admins() {
    let w = world().await;
    let smtp = mail_server(&w, Mode::Reject).await;
    ann(&w).await;
    w.start(
        flow(approval("ok", &["approver"], 1)),
        json!({"amount": 1, "vendor": "V"}),
    )
    .await;
    w.idle().await;
    w.engine.notify_once(&cfg()).await.unwrap();
    let f = notify::outbox(&w.db, true).await.unwrap().remove(0);
    assert!(f.given_up, "{f:?}");
    assert!(f.last_error.unwrap().contains("550"));
    w.clock.advance(3_600_000);
    w.engine.notify_once(&cfg()).await.unwrap();
    assert_eq!(
        smtp.attempts.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "not tried again"
    );
}

#[tokio::test]
async fn without_a_mail_server_nobody_is_emailed_but_the_webhook_is_told() {
    let w = world().await;
    let slack = hook().await;
    ann(&w).await;
    let mut def = flow(approval("ok", &["approver"], 1));
    def.settings.notify_webhook = Some(slack.url.clone());
    w.start(def, json!({"amount": 1, "vendor": "V"})).await;
    w.idle().await;
    let done = w.engine.notify_once(&cfg()).await.unwrap();
    assert_eq!((done.emails, done.webhooks, done.delivered), (0, 1, 1));
    assert_eq!(slack.bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn careless_settings_and_addresses_are_refused_with_what_to_fix() {
    let w = world().await;
    // a password secret that may not go to the mail server's host
    secrets::set_secret(
        &w.db,
        &sealer(),
        "user:admin",
        "OTHER",
        "x",
        "ledger.example.com",
        T0,
    )
    .await
    .unwrap();
    let mut s = settings(2525);
    s.password_secret = Some("OTHER".into());
    let e = notify::set_smtp(&w.db, "user:admin", Some(s), T0)
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("may only be sent to ledger.example.com; add 127.0.0.1"),
        "{}",
        e.message
    );
    let mut s = settings(2525);
    s.password_secret = Some("MISSING".into());
    let e = notify::set_smtp(&w.db, "user:admin", Some(s), T0)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("there is no secret named MISSING"),
        "{}",
        e.message
    );
    let mut s = settings(0);
    s.from = "nobody".into();
    let e = notify::set_smtp(&w.db, "user:admin", Some(s), T0)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("port must be") && e.message.contains("from:"),
        "{}",
        e.message
    );
    assert_eq!(
        notify::smtp_settings(&w.db).await.unwrap(),
        None,
        "nothing saved"
    );
    let u = accounts::create_user(
        &w.db,
        "user:admin",
        "ann",
        "Ann",
        "a long password 1",
        Role::Approver,
        T0,
    )
    .await
    .unwrap();
    let e = notify::set_contact(
        &w.db,
        "user:admin",
        &u.id,
        Some("ann@example.com\r\nBcc: x@y.z"),
        NotifyPref::Each,
        T0,
    )
    .await
    .unwrap_err();
    assert!(
        e.message.contains("is not an email address"),
        "{}",
        e.message
    );
    let e = notify::set_contact(
        &w.db,
        "user:admin",
        "usr_nobody",
        Some("a@b.c"),
        NotifyPref::Each,
        T0,
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("no user with id"), "{}", e.message);
    // the settings and the address are audited when they are saved
    notify::set_contact(
        &w.db,
        "user:admin",
        &u.id,
        Some(" ann@example.com "),
        NotifyPref::Digest,
        T0,
    )
    .await
    .unwrap();
    let ann = app::ops::accounts::list_users(&w.db)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (ann.email.as_deref(), ann.notify.as_str()),
        (Some("ann@example.com"), "digest")
    );
}

#[tokio::test]
async fn the_retention_sweep_drops_notifications_sent_or_given_up_over_a_month_ago() {
    use app::store::outbox::{self, NewMessage};
    let w = world().await;
    let message = |to: &'static str| NewMessage {
        channel: "email",
        destination: to,
        subject: "s",
        body: "b",
        reason: "test",
        ..Default::default()
    };
    let mut tx = w.db.write().await.unwrap();
    let sent = outbox::insert(&mut tx, &message("a@example.com"), T0)
        .await
        .unwrap();
    outbox::delivered(&mut tx, &sent, T0).await.unwrap();
    let dropped = outbox::insert(&mut tx, &message("b@example.com"), T0)
        .await
        .unwrap();
    outbox::failed(&mut tx, &dropped, "550 no", None, T0)
        .await
        .unwrap();
    outbox::insert(&mut tx, &message("c@example.com"), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let config = server::engine::retention::RetentionConfig::default();
    let mut pruned = vec![];
    for days in [29, 2] {
        w.clock.advance(days * 86_400_000);
        pruned.push(
            w.engine
                .sweep_retention(&config, None)
                .await
                .unwrap()
                .notifications,
        );
    }
    assert_eq!(
        pruned,
        [0, 2],
        "kept 30 days, then the delivered and the given-up go"
    );
    let left = notify::outbox(&w.db, false).await.unwrap();
    assert_eq!(left.len(), 1, "the one still being tried stays");
    assert_eq!(left[0].destination, "c@example.com");
}
