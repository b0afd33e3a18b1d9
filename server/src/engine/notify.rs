//! The notifier: tells the people who may decide an approval item that it
//! opened, was escalated or nears its deadline (by email, as each chose),
//! and the workflow's webhook; sends the daily digests; then delivers the
//! outbox. It finds its work by looking at the items after the engine has
//! committed them, so telling people never holds up or fails a run, and a
//! crash between finding and queueing only means the item is found again.

use super::Engine;
use app::domain::approvals::{ApprovalItem, may_decide};
use app::domain::auth::Principal;
use app::domain::notify::messages::{approval_email, approval_webhook, digest_email, item_link};
use app::domain::notify::{NotifyPref, digest_due, next_announcement};
use app::store::accounts::{self as users, UserRow};
use app::store::approvals;
use app::store::outbox::{self, NewMessage};
use std::sync::Arc;
use std::time::Duration;

/// How the notifier runs.
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    /// The address people reach this server at (links in messages).
    pub base_url: String,
    /// The hour (UTC) daily digests go out.
    pub digest_hour: u32,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notified {
    /// Items announced (each to its people and webhook).
    pub announced: usize,
    /// Emails queued for those announcements.
    pub emails: usize,
    pub webhooks: usize,
    pub digests: usize,
    pub delivered: usize,
}

/// Items looked at in one pass.
const BATCH: i64 = 200;
/// The longest "deadline near" is before the deadline (`remind_at`).
const HORIZON_MS: i64 = 3_600_000;

/// A person who wants email, with what they may decide.
struct Reader {
    user: UserRow,
    who: Principal,
    pref: NotifyPref,
}

impl Engine {
    /// Announces what is due, sends due digests and delivers the outbox,
    /// once, at the clock's now.
    pub async fn notify_once(&self, cfg: &NotifyConfig) -> super::Result<Notified> {
        let mut done = Notified::default();
        let now = self.clock.now();
        let email = app::ops::notify::smtp_settings(&self.db)
            .await
            .map_err(|e| app::store::StoreError::Corrupt(e.message))?
            .is_some();
        let readers = if email { self.readers().await? } else { vec![] };
        let due = {
            let mut conn = self.db.acquire().await?;
            approvals::unannounced(&mut conn, now + HORIZON_MS, BATCH).await?
        };
        for (item, bits) in due {
            let Some((what, next_bits)) = next_announcement(
                bits,
                item.escalated_to.is_some(),
                item.created_at,
                item.deadline_at,
                now,
            ) else {
                continue;
            };
            let link = item_link(&cfg.base_url, &item.id);
            let hook = self.notify_webhook(&item).await;
            let mut tx = self.db.write().await?;
            // whoever marks it queues its messages, in the same transaction
            if !approvals::mark_announced(&mut tx, &item.id, bits, next_bits).await? {
                continue;
            }
            let mail = approval_email(what, &item, &link);
            for r in deciders(&readers, &item).filter(|r| r.pref == NotifyPref::Each) {
                let to = r.user.email.as_deref().unwrap_or_default();
                let m = NewMessage {
                    channel: "email",
                    destination: to,
                    subject: &mail.subject,
                    body: &mail.text,
                    reason: what.as_str(),
                    workflow_id: Some(&item.workflow_id),
                    item_id: Some(&item.id),
                    ..Default::default()
                };
                outbox::insert(&mut tx, &m, now).await?;
                done.emails += 1;
            }
            if let Some(url) = hook {
                let body = approval_webhook(what, &item, &link).to_string();
                let m = NewMessage {
                    channel: "webhook",
                    destination: &url,
                    body: &body,
                    reason: what.as_str(),
                    workflow_id: Some(&item.workflow_id),
                    item_id: Some(&item.id),
                    ..Default::default()
                };
                outbox::insert(&mut tx, &m, now).await?;
                done.webhooks += 1;
            }
            tx.commit().await?;
            done.announced += 1;
        }
        if email {
            done.digests = self.send_digests(&readers, cfg, now).await?;
        }
        done.delivered = self.deliver_outbox().await?;
        Ok(done)
    }

    /// The people with an address who want email, with their principal.
    async fn readers(&self) -> super::Result<Vec<Reader>> {
        let mut conn = self.db.acquire().await?;
        Ok(users::reachable_users(&mut conn)
            .await?
            .into_iter()
            .filter_map(|user| {
                let who = app::ops::accounts::principal_of(&user).ok()?;
                let pref = NotifyPref::parse(&user.notify).ok()?;
                Some(Reader { user, who, pref })
            })
            .collect())
    }

    /// The webhook the item's workflow (the version its run runs) names.
    async fn notify_webhook(&self, item: &ApprovalItem) -> Option<String> {
        let run = {
            let mut conn = self.db.acquire().await.ok()?;
            app::store::runs::get_run(&mut conn, &item.run_id)
                .await
                .ok()?
        };
        let def = self.definition(&run).await.ok()?;
        def.settings.notify_webhook.clone()
    }

    /// One email per person who chose the digest and whose digest is due,
    /// listing what they may decide (nothing is sent when nothing waits).
    async fn send_digests(
        &self,
        readers: &[Reader],
        cfg: &NotifyConfig,
        now: i64,
    ) -> super::Result<usize> {
        let due: Vec<&Reader> = readers
            .iter()
            .filter(|r| r.pref == NotifyPref::Digest)
            .filter(|r| digest_due(r.user.digest_at, now, cfg.digest_hour))
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        let pending = {
            let mut conn = self.db.acquire().await?;
            approvals::pending(&mut conn, 500).await?
        };
        let mut sent = 0;
        for r in due {
            let mine: Vec<ApprovalItem> = pending
                .iter()
                .filter(|i| may_decide(&r.who, i).is_ok())
                .cloned()
                .collect();
            let mut tx = self.db.write().await?;
            if !users::mark_digest(&mut tx, &r.user.id, r.user.digest_at, now).await? {
                continue;
            }
            if !mine.is_empty() {
                let mail = digest_email(&mine, &cfg.base_url);
                let m = NewMessage {
                    channel: "email",
                    destination: r.user.email.as_deref().unwrap_or_default(),
                    subject: &mail.subject,
                    body: &mail.text,
                    reason: "digest",
                    ..Default::default()
                };
                outbox::insert(&mut tx, &m, now).await?;
                sent += 1;
            }
            tx.commit().await?;
        }
        Ok(sent)
    }

    /// Runs [`Engine::notify_once`] every `every` until `shutdown`.
    pub fn spawn_notifier(
        self: &Arc<Self>,
        every: Duration,
        cfg: NotifyConfig,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        super::workers::periodic(every, shutdown, move |_| {
            let (engine, cfg) = (engine.clone(), cfg.clone());
            async move {
                if let Err(e) = engine.notify_once(&cfg).await {
                    tracing::error!(error = %e, "notifying people failed");
                }
            }
        })
    }
}

/// The readers who may decide `item`.
fn deciders<'a>(readers: &'a [Reader], item: &'a ApprovalItem) -> impl Iterator<Item = &'a Reader> {
    readers.iter().filter(|r| may_decide(&r.who, item).is_ok())
}
