//! An LLM step's attempt: its model connection looked up and its API key
//! opened for this attempt (a changed connection or key applies to the
//! next one), then the runner.

use super::Engine;
use super::runners::llm::{self, Model, Route};
use super::runners::{Attempt, OpenSecret, Outcome};
use app::domain::graph::{ErrorClass, LlmConfig, Node, PORT_UNCERTAIN, WorkflowDef};
use app::domain::llm::{ModelCall, ModelConnection};

impl Engine {
    /// The connection named `name` and its API key, or the failure that
    /// says what to set up.
    async fn model_for(
        &self,
        name: &str,
    ) -> Result<(ModelConnection, Option<OpenSecret>), Outcome> {
        let conn = match app::ops::models::get(&self.db, name).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(Outcome::fail(
                    ErrorClass::Business,
                    format!(
                        "there is no model connection named '{name}'; an admin sets it up in Settings → Model connections"
                    ),
                ));
            }
            Err(e) => {
                return Err(Outcome::fail(
                    ErrorClass::Transient,
                    format!("model connections unavailable: {}", e.message),
                ));
            }
        };
        let Some(secret) = conn.api_key_secret.clone() else {
            return Ok((conn, None));
        };
        let Some(sealer) = &self.sealer else {
            return Err(Outcome::fail(
                ErrorClass::Business,
                "this server has no secrets key, so the connection's API key cannot be opened",
            ));
        };
        let opened =
            app::ops::secrets::open_secrets(&self.db, sealer, std::slice::from_ref(&secret))
                .await
                .map_err(|e| {
                    Outcome::fail(
                        ErrorClass::Transient,
                        format!("secrets unavailable: {}", e.message),
                    )
                })?;
        let Some((value, hosts)) = opened.get(&secret) else {
            return Err(Outcome::fail(
                ErrorClass::Business,
                format!(
                    "the API key secret {secret} of model connection '{name}' does not exist (Settings → Secrets)"
                ),
            ));
        };
        let hosts: app::domain::outbound::HostList = hosts.parse().unwrap_or_default();
        let url = reqwest::Url::parse(&conn.base_url).ok();
        let host = url
            .as_ref()
            .and_then(|u| u.host_str())
            .unwrap_or("")
            .to_string();
        let port = url.as_ref().and_then(|u| u.port_or_known_default());
        if !hosts.admits(&host, None, port) {
            return Err(Outcome::fail(
                ErrorClass::Business,
                format!(
                    "the secret {secret} may not be sent to {host}; add the host to the secret's allowed hosts (Settings → Secrets)"
                ),
            ));
        }
        Ok((
            conn,
            Some(OpenSecret {
                value: value.clone(),
                hosts,
            }),
        ))
    }

    /// Runs an LLM step: its outcome and, when a model was asked, the
    /// record of what was sent and received.
    pub(super) async fn llm_attempt(
        &self,
        a: &Attempt<'_>,
        def: Option<&WorkflowDef>,
        node: &Node,
        cfg: &LlmConfig,
    ) -> (Outcome, Option<ModelCall>) {
        let (conn, key) = match self.model_for(&cfg.connection).await {
            Ok(x) => x,
            Err(o) => return (o, None),
        };
        let route = Route {
            threshold: node
                .confidence_threshold
                .or(def.and_then(|d| d.settings.confidence_threshold)),
            uncertain_connected: def.is_some_and(|d| {
                d.edges
                    .iter()
                    .any(|e| e.from == node.id && e.port == PORT_UNCERTAIN)
            }),
        };
        let model = Model {
            connection: &conn,
            key: key.as_ref(),
        };
        let (outcome, call) = llm::run(a, cfg, &model, route).await;
        (outcome, Some(call))
    }
}
