//! Delivering the outbox: emails through the instance's mail server,
//! webhooks under the outbound address policy. A failure is retried with
//! backoff and given up after a number of tries (admins see both); a
//! refusal the server will repeat is given up at once. Nothing here is in
//! a run's way: messages are queued after the run's commit.

use super::Engine;
use super::runners::email::MailServer;
use crate::mailer::{self, Mail, SendError};
use app::domain::monitoring::alerts::{MAX_NOTICE_ATTEMPTS, retry_after_ms};
use app::store::outbox::{self, Outgoing};
use std::time::Duration;

/// How long a message is held by the process sending it.
const SEND_LEASE_MS: i64 = 60_000;

impl Engine {
    /// Sends the messages that are due; returns how many were delivered.
    pub async fn deliver_outbox(&self) -> super::Result<usize> {
        let now = self.clock.now();
        let due = {
            let mut conn = self.db.acquire().await?;
            outbox::take_due(&mut conn, now, now + SEND_LEASE_MS, 20).await?
        };
        if due.is_empty() {
            return Ok(0);
        }
        let server = self.mail_server().await;
        let mut delivered = 0;
        for m in due {
            let sent = match m.channel.as_str() {
                "email" => self.send_email(&server, &m).await,
                _ => self
                    .send_webhook(&m.destination, &m.body)
                    .await
                    .map_err(|e| SendError {
                        message: e,
                        permanent: false,
                    }),
            };
            let mut conn = self.db.acquire().await?;
            match sent {
                Ok(()) => {
                    outbox::delivered(&mut conn, &m.id, self.clock.now()).await?;
                    delivered += 1;
                }
                Err(e) => {
                    let tries = m.attempts + 1;
                    let next = (!e.permanent && tries < MAX_NOTICE_ATTEMPTS)
                        .then(|| self.clock.now() + retry_after_ms(tries));
                    tracing::warn!(id = %m.id, reason = %m.reason, attempts = tries, error = %e.message, "a notification was not delivered");
                    outbox::failed(&mut conn, &m.id, &e.message, next, self.clock.now()).await?;
                }
            }
        }
        Ok(delivered)
    }

    /// The instance's mail server with its password opened, if one is set.
    pub(super) async fn mail_server(&self) -> MailServer {
        let Some(s) = app::ops::notify::smtp_settings(&self.db)
            .await
            .map_err(|e| e.message)?
        else {
            return Ok(None);
        };
        let password = match &self.sealer {
            Some(sealer) => app::ops::notify::smtp_password(&self.db, sealer, &s).await?,
            None => None,
        };
        Ok(Some((s, password)))
    }

    async fn send_email(&self, server: &MailServer, m: &Outgoing) -> Result<(), SendError> {
        let (s, password) = match server {
            Ok(Some(x)) => x,
            Ok(None) => {
                return Err(SendError {
                    message: "no mail server is set (Settings → Notifications)".into(),
                    permanent: false,
                });
            }
            Err(e) => {
                return Err(SendError {
                    message: e.clone(),
                    permanent: false,
                });
            }
        };
        let mail = Mail {
            to: vec![m.destination.clone()],
            subject: m.subject.clone(),
            text: m.body.clone(),
            message_id: Some(format!("<{}@stepwise>", m.id)),
            ..Default::default()
        };
        mailer::send(s, password.clone(), mailer::build(&s.from, &mail)?).await
    }

    /// Posts `body` (JSON text) to `url` under the outbound policy.
    async fn send_webhook(&self, url: &str, body: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        crate::outbound::check_url(&parsed, &self.outbound.allowed).await?;
        let response = self
            .outbound
            .client
            .post(parsed)
            .header("content-type", "application/json")
            .body(body.to_string())
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| crate::outbound::refusal(&e).unwrap_or_else(|| e.to_string()))?;
        match response.status() {
            s if s.is_success() => Ok(()),
            s => Err(format!("the webhook answered {s}")),
        }
    }
}
