//! Testing one step without a run (the designer's "Test step"): the same
//! runner, sandbox, outbound policy, secrets and time limit as a step of
//! a run, over the sample data the person gave. Nothing is stored but the
//! audit event the caller writes.

use super::Engine;
use super::runners::{self, Attempt, Outcome};
use app::domain::step_test::StepTestResult;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

impl app::ops::step_test::StepTester for Engine {
    fn test<'a>(
        &'a self,
        node: &'a app::domain::Node,
        context: &'a Value,
    ) -> Pin<Box<dyn Future<Output = StepTestResult> + Send + 'a>> {
        Box::pin(async move {
            let started = Instant::now();
            let request = match &node.kind {
                app::domain::NodeKind::Http { request, .. } => Some(request),
                _ => None,
            };
            let mut call = None;
            let mut console = vec![];
            let outcome = match self.secrets_for(request).await {
                Err(o) => o,
                Ok(secrets) => {
                    // its own key: a test is never taken for a run's call
                    let run_id = format!("test-{}", uuid::Uuid::now_v7().simple());
                    let attempt = Attempt {
                        item: None,
                        pass: 0,
                        secrets: &secrets,
                        run_id: &run_id,
                        step_id: &node.id,
                        node,
                        context,
                        attempt: 1,
                        now: self.clock.now(),
                        woken: false,
                        sandbox: &self.sandbox,
                        outbound: &self.outbound,
                    };
                    let ms = self.step_limit(node);
                    let run = async {
                        match &node.kind {
                            // a test takes the list; its items do not run
                            app::domain::NodeKind::ForEach(cfg) => self
                                .for_each_step(&run_id, &node.id, cfg, context, false, attempt.now)
                                .await
                                .unwrap_or_else(|e| {
                                    Outcome::fail(
                                        app::domain::graph::ErrorClass::Transient,
                                        e.to_string(),
                                    )
                                }),
                            app::domain::NodeKind::Llm(cfg) => {
                                let (o, made) = self.llm_attempt(&attempt, None, node, cfg).await;
                                call = made;
                                o
                            }
                            app::domain::NodeKind::Code { source } => {
                                let (o, lines) =
                                    runners::code::run(&self.sandbox, source, context).await;
                                console = lines;
                                o
                            }
                            app::domain::NodeKind::Email(cfg) => {
                                runners::email::run(&attempt, cfg, self.mail_server().await).await
                            }
                            _ => runners::run(&attempt, false).await,
                        }
                    };
                    tokio::time::timeout(Duration::from_millis(ms), run)
                        .await
                        .unwrap_or_else(|_| {
                            Outcome::fail(
                                app::domain::graph::ErrorClass::Transient,
                                format!(
                                    "timed out: the step took longer than its timeout of {ms} ms"
                                ),
                            )
                        })
                }
            };
            let took_ms = started.elapsed().as_millis() as i64;
            let mut result = match outcome {
                Outcome::Done {
                    output,
                    confidence,
                    port,
                } => StepTestResult {
                    output: Some(output),
                    port: Some(port),
                    confidence,
                    took_ms,
                    ..Default::default()
                },
                Outcome::Failed { class, message, .. } => StepTestResult {
                    error_class: Some(class.as_str().to_string()),
                    error: Some(message),
                    took_ms,
                    ..Default::default()
                },
                Outcome::Iterate { items } => StepTestResult {
                    output: Some(serde_json::json!({ "items": items })),
                    took_ms,
                    ..Default::default()
                },
                Outcome::Park { .. } | Outcome::Ask { .. } | Outcome::Spawn { .. } => {
                    StepTestResult {
                        error: Some("the step would wait; it cannot be tested on its own".into()),
                        took_ms,
                        ..Default::default()
                    }
                }
            };
            result.call = call;
            result.console = console;
            result
        })
    }

    fn check_code<'a>(
        &'a self,
        source: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let job = crate::sandbox::Job::JsCheck {
                code: source.to_string(),
            };
            let null = Value::Null;
            match self
                .sandbox
                .run(&crate::sandbox::Request::over(&null, vec![job]))
                .await
            {
                Ok(mut r) => match r.pop() {
                    Some(Ok(Value::String(e))) => Err(e),
                    Some(Ok(_)) => Ok(()),
                    Some(Err(e)) => Err(e),
                    None => Err("the sandbox gave no result".into()),
                },
                Err(
                    crate::sandbox::SandboxError::Limit(m)
                    | crate::sandbox::SandboxError::Unavailable(m),
                ) => Err(m),
            }
        })
    }
}
