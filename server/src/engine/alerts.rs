//! The alert loop: every so often it checks the workflows' alert rules
//! (`app::ops::monitoring::check_alerts`) and delivers the notices that
//! are due (`outbox`).

use super::Engine;
use std::sync::Arc;
use std::time::Duration;

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
        self.deliver_outbox().await.map_err(|e| e.to_string())?;
        Ok(checked)
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
