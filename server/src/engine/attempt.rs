//! Running one claimed step: its context, the secrets it names, the
//! runner (or the approval and confidence-gate paths), the pure stretch it
//! starts, and a panic turned into a failed attempt.

use super::runners::{self, Attempt, Outcome};
use super::stretch::Plan;
use super::{Engine, Result, run_context};
use app::domain::graph::ErrorClass;
use app::store::runs::{self, Claimed};
use serde_json::Value;
use std::time::Duration;

impl Engine {
    /// The secrets `request`'s templates name, opened for this attempt (a
    /// changed secret applies to the next one); a failed attempt when
    /// they cannot be opened.
    pub(super) async fn secrets_for(
        &self,
        request: Option<&app::domain::graph::HttpRequest>,
    ) -> std::result::Result<std::collections::BTreeMap<String, runners::OpenSecret>, Outcome> {
        let names = request
            .map(runners::request_secret_names)
            .unwrap_or_default();
        let (Some(sealer), false) = (&self.sealer, names.is_empty()) else {
            return Ok(Default::default());
        };
        match app::ops::secrets::open_secrets(&self.db, sealer, &names).await {
            Ok(s) => Ok(s
                .into_iter()
                .map(|(name, (value, hosts))| {
                    let hosts = hosts.parse().unwrap_or_default();
                    (name, runners::OpenSecret { value, hosts })
                })
                .collect()),
            Err(e) => Err(Outcome::fail(
                ErrorClass::Transient,
                format!("secrets unavailable: {}", e.message),
            )),
        }
    }

    /// A step's time limit: its own, at most the server's.
    pub(super) fn step_limit(&self, node: &app::domain::Node) -> u64 {
        node.timeout_ms
            .map_or(self.step_timeout_ms, |t| {
                t.min(self.step_timeout_ms as u64) as i64
            })
            .max(1) as u64
    }

    pub(super) async fn process(&self, c: Claimed, started: i64) -> Result<()> {
        if self.panic_on.as_deref() == Some(c.node_id.as_str()) {
            panic!("injected fault: running {} panics", c.node_id);
        }
        let (run, steps) = {
            let mut conn = self.db.acquire().await?;
            runs::with_steps(&mut conn, &c.run_id).await?
        };
        let def = self.definition(&run).await?;
        let compensation = runs::compensated_node(&c.node_id);
        let Some(node) = def.node(compensation.unwrap_or(&c.node_id)) else {
            return self
                .finish(
                    &c,
                    &run,
                    &def,
                    started,
                    None,
                    Outcome::fail(
                        ErrorClass::Business,
                        "the node is not in the workflow version",
                    ),
                    Plan::default(),
                )
                .await;
        };
        let ctx = match &c.input_override {
            Some(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            None => run_context(&run, &steps),
        };
        // secrets only for steps that call out, opened per attempt so a
        // changed secret applies to the next attempt
        // only the secrets the step's own templates name
        let request = match (&node.kind, compensation) {
            (_, Some(_)) => node.compensation.as_ref(),
            (app::domain::NodeKind::Http { request, .. }, None) => Some(request),
            _ => None,
        };
        let secrets = match self.secrets_for(request).await {
            Ok(s) => s,
            Err(o) => {
                return self
                    .finish(&c, &run, &def, started, Some(&ctx), o, Plan::default())
                    .await;
            }
        };
        let gated = match (c.parked, compensation) {
            (true, None) => self.gated_outcome(&c.run_id, node).await?,
            _ => None,
        };
        // a chaos run's fault for this attempt: latency first, then the
        // fault instead of the step (or its confidence lowered after)
        let chaos = match (&gated, compensation) {
            (None, None) => super::chaos::decide(&run, node, &steps, &c),
            _ => None,
        };
        if let Some(chaos) = chaos {
            chaos.delay().await;
            if chaos.dies() {
                // no result: the lease is left to expire and recovery runs it again
                tracing::warn!(run_id = %c.run_id, node_id = %c.node_id, "chaos: attempt abandoned as if its process died");
                return Ok(());
            }
        }
        let faulted = chaos.and_then(|f| f.instead());
        // a golden run's case answers for the steps that call out
        let replayed = match (run.origin, &gated, compensation) {
            (app::domain::run::RunOrigin::Golden, None, None) => {
                let mut conn = self.db.acquire().await?;
                app::store::golden::case_of_run(&mut conn, c.run_id.as_str())
                    .await?
                    .and_then(|case| super::golden::replay(&case, node))
            }
            _ => None,
        };
        let gated = gated.or(faulted).or(replayed);
        // what an LLM step sent and received
        let mut call = None;
        // what a Code step wrote to its console
        let mut console = vec![];
        let outcome = match (gated, &node.kind, compensation) {
            (Some(outcome), _, _) => outcome,
            (None, app::domain::NodeKind::Approval(cfg), None) => {
                self.approval_step(
                    &run,
                    &def,
                    node,
                    cfg,
                    &ctx,
                    Some(c.cum_in),
                    c.parked,
                    started,
                )
                .await?
            }
            (None, app::domain::NodeKind::SubWorkflow { .. }, None) => {
                self.sub_workflow_step(&run, node, &ctx, c.parked).await?
            }
            (None, app::domain::NodeKind::ForEach(cfg), None) => {
                self.for_each_step(&c.run_id, &c.node_id, cfg, &ctx, c.parked, started)
                    .await?
            }
            _ => {
                let attempt = Attempt {
                    secrets: &secrets,
                    run_id: &c.run_id,
                    item: run.item.as_ref(),
                    pass: steps
                        .iter()
                        .find(|s| s.node_id == c.node_id)
                        .map_or(0, |s| s.pass),
                    step_id: &c.node_id,
                    node,
                    context: &ctx,
                    attempt: c.attempt,
                    now: started,
                    woken: c.parked,
                    sandbox: &self.sandbox,
                    outbound: &self.outbound,
                };
                let run = async {
                    match (&node.kind, compensation) {
                        (app::domain::NodeKind::Llm(cfg), None) => {
                            let (o, made) = self.llm_attempt(&attempt, Some(&def), node, cfg).await;
                            call = made;
                            o
                        }
                        (app::domain::NodeKind::Code { source }, None) => {
                            let (o, lines) = runners::code::run(&self.sandbox, source, &ctx).await;
                            console = lines;
                            o
                        }
                        (app::domain::NodeKind::Email(cfg), None) => {
                            runners::email::run(&attempt, cfg, self.mail_server().await).await
                        }
                        _ => runners::run(&attempt, compensation.is_some()).await,
                    }
                };
                // every step has a timeout: its own, at most the server's
                let ms = self.step_limit(node);
                match tokio::time::timeout(Duration::from_millis(ms), run).await {
                    Ok(o) => o,
                    Err(_) => Outcome::fail(
                        ErrorClass::Transient,
                        format!("timed out: the step took longer than its timeout of {ms} ms"),
                    ),
                }
            }
        };
        let outcome = match chaos {
            Some(f) => f.after(outcome),
            None => outcome,
        };
        // a chaos run's steps are each claimed, so each can take a fault
        let plan = match run.chaos {
            Some(_) => Plan::default(),
            None if self.simple => Plan::default(),
            None => {
                self.plan_stretch(&def, &run, &steps, &c, &outcome, started)
                    .await
            }
        };
        let ran = runners::Ran {
            outcome,
            call,
            console,
        };
        self.finish(&c, &run, &def, started, Some(&ctx), ran, plan)
            .await
    }

    /// Fails the attempt of `c` that panicked, with a reference to the log.
    pub(super) async fn panicked(
        &self,
        c: &Claimed,
        started: i64,
        panic: Box<dyn std::any::Any + Send>,
    ) -> Result<()> {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_string();
        tracing::error!(reference, "running a step panicked: {what}");
        let run = {
            let mut conn = self.db.acquire().await?;
            runs::get_run(&mut conn, &c.run_id).await?
        };
        let def = self.definition(&run).await?;
        let outcome = Outcome::fail(
            ErrorClass::Transient,
            format!(
                "internal error while running the step (reference {reference} in the server log)"
            ),
        );
        self.finish(c, &run, &def, started, None, outcome, Plan::default())
            .await
    }
}
