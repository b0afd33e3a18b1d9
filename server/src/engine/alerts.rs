//! The alert loop: every so often it checks the workflows' alert rules
//! (`app::ops::monitoring::check_alerts`) and delivers the notices that
//! are due to their webhooks, under the outbound address policy, retrying
//! with backoff and giving up after a number of tries.

use super::Engine;
use app::domain::monitoring::alerts::{MAX_NOTICE_ATTEMPTS, retry_after_ms};
use app::store::alert_notices;
use std::sync::Arc;
use std::time::Duration;

/// How long a notice is held by the process sending it.
const SEND_LEASE_MS: i64 = 30_000;

impl Engine {
    /// Checks every rule and delivers due notices once, at the clock's now.
    pub async fn check_alerts(
        &self,
        base_url: &str,
    ) -> Result<app::ops::monitoring::Checked, String> {
        let now = self.clock.now();
        let checked = app::ops::monitoring::check_alerts(&self.db, now, base_url)
            .await
            .map_err(|e| e.message)?;
        self.deliver_notices().await.map_err(|e| e.to_string())?;
        Ok(checked)
    }

    /// Sends the notices that are due; returns how many were delivered.
    pub async fn deliver_notices(&self) -> super::Result<usize> {
        let now = self.clock.now();
        let due = {
            let mut conn = self.db.acquire().await?;
            alert_notices::take_due(&mut conn, now, now + SEND_LEASE_MS, 20).await?
        };
        let mut delivered = 0;
        for n in due {
            let sent = self.send_notice(&n.url, &n.body).await;
            let mut conn = self.db.acquire().await?;
            match sent {
                Ok(()) => {
                    alert_notices::delivered(&mut conn, &n.id, self.clock.now()).await?;
                    delivered += 1;
                }
                Err(e) => {
                    let tries = n.attempts + 1;
                    let next = (tries < MAX_NOTICE_ATTEMPTS).then(|| now + retry_after_ms(tries));
                    tracing::warn!(rule = %n.rule_id, attempts = tries, error = %e, "an alert notice was not delivered");
                    alert_notices::failed(&mut conn, &n.id, &e, next).await?;
                }
            }
        }
        Ok(delivered)
    }

    /// Posts `body` (JSON text) to `url` under the outbound policy.
    async fn send_notice(&self, url: &str, body: &str) -> Result<(), String> {
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

    /// Runs [`Engine::check_alerts`] every `every` until `shutdown`.
    pub fn spawn_alerts(
        self: &Arc<Self>,
        every: Duration,
        base_url: String,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        super::workers::periodic(every, shutdown, move |_| {
            let (engine, base_url) = (engine.clone(), base_url.clone());
            async move {
                if let Err(e) = engine.check_alerts(&base_url).await {
                    tracing::error!(error = %e, "checking the alert rules failed");
                }
            }
        })
    }
}
