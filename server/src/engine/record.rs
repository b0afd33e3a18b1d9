//! Recording one attempt's result inside a completion transaction: its
//! step's update, its step-log row, the confidence gate and the approval
//! it may ask for, a retry or a give-up, and the run moved on from it.

use super::runners::Outcome;
use super::told::Told;
use super::{Engine, Result};
use app::domain::graph::WorkflowDef;
use app::domain::machine::{AfterFailure, NodeState, after_failure, cumulative};
use app::domain::transitions::StepEvent;
use app::ops::progress;
use app::store::runs::{self as store, Claimed, NewAttempt, StepUpdate};
use serde_json::{Value, json};

impl Engine {
    /// Writes one attempt's result to its step and the step log, and moves
    /// the run on when the step reached a final state. `states`, when held,
    /// is the run's step states and is kept current (read here on first
    /// need; dropped when something else than this step changed).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record(
        &self,
        tx: &mut app::store::conn::Conn,
        c: &Claimed,
        def: &WorkflowDef,
        started: i64,
        now: i64,
        input: Option<&Value>,
        outcome: &Outcome,
        call: Option<&app::domain::llm::ModelCall>,
        console: &[String],
        states: &mut Option<progress::States>,
        told: &mut Told,
    ) -> Result<progress::Advanced> {
        // what the step resolved from the context, not the whole context again
        let resolved = match (input, def.node(&c.node_id)) {
            (Some(i), Some(node)) => Some(app::domain::resolved::resolved(node, i)),
            _ => input.map(std::borrow::Cow::Borrowed),
        };
        let logged = resolved.as_deref();
        // where an output came from: what it read, and the model if one answered
        let lineage = match (outcome, logged) {
            (Outcome::Done { .. }, Some(read)) => {
                Some(app::domain::lineage::Lineage::of_answer(read, call))
            }
            _ => None,
        };
        let mut attempt = NewAttempt {
            lineage: lineage.as_ref(),
            model_call: call,
            console,
            claimed: c,
            worker: &self.worker,
            started_at: started,
            finished_at: now,
            input: logged,
            output: None,
            outcome: "succeeded",
            error_class: None,
            error: None,
            confidence: None,
        };
        let mut finished_final = false;
        // what is read below (a gate, a failure's pass) is read written
        let keeps = matches!(outcome, Outcome::Done { .. })
            && !super::stretch::gated(def, &c.node_id, outcome, c.cum_in);
        if let (Some(w), false) = (told.steps.as_mut(), keeps) {
            w.flush(&mut *tx).await?;
        }
        let mut gated = self
            .confidence_gate(&mut *tx, c, def, input, outcome, now)
            .await?;
        // what produced the proposal, for the reviewer and the export
        if let (Some(Outcome::Ask { item, .. }), Some(l)) = (gated.as_mut(), &lineage) {
            item.context["lineage"] = json!({ c.node_id.clone(): l });
        }
        // what the step reported, for the metrics (Some when it finished)
        let reported = match outcome {
            Outcome::Done { confidence, .. } => Some(*confidence),
            _ => None,
        };
        let outcome = gated.as_ref().unwrap_or(outcome);
        // in a golden run the case decides where people would be asked
        let answered;
        let outcome = match outcome {
            Outcome::Ask { item, .. } => match super::golden::answer(&mut *tx, def, c, item).await?
            {
                Some(o) => {
                    answered = o;
                    &answered
                }
                None => outcome,
            },
            _ => outcome,
        };
        let mut update = match outcome {
            Outcome::Done {
                output,
                confidence,
                port,
            } => {
                attempt.output = Some(output);
                attempt.confidence = *confidence;
                finished_final = true;
                StepUpdate {
                    port: Some(port),
                    output: Some(output),
                    confidence: *confidence,
                    cum_confidence: Some(cumulative(c.cum_in, *confidence)),
                    ..StepUpdate::new(StepEvent::Succeed, now)
                }
            }
            Outcome::Park { until } | Outcome::Ask { until, .. } => {
                if let Outcome::Ask { item, .. } = outcome {
                    if item.reason == "confidence" {
                        // what the step produced and how sure it said it
                        // was, for the log (and monitoring's drift)
                        attempt.output = Some(&item.proposed);
                        attempt.confidence = reported.flatten();
                        let cum = cumulative(c.cum_in, reported.flatten());
                        app::store::runs::note_gate(&mut *tx, c.run_id.as_str(), cum).await?;
                    }
                    app::store::approvals::insert(&mut *tx, item).await?;
                    told.inbox_changed = true;
                    app::store::audit::append(
                        &mut *tx,
                        &app::domain::audit::NewAuditEvent::run(
                            now,
                            "engine",
                            "approval.requested",
                            &c.run_id,
                            json!({"item": item.id, "node": c.node_id, "reason": item.reason}),
                        ),
                    )
                    .await?;
                }
                attempt.outcome = "parked";
                // A person may have decided while this attempt ran (after
                // a deadline's escalation, say): their wake-up found the
                // step running and changed nothing, so it wakes now.
                let decided = matches!(outcome, Outcome::Park { .. })
                    && app::store::approvals::for_step(&mut *tx, &c.run_id, &c.node_id)
                        .await?
                        .is_some_and(|i| i.status != app::domain::run::ItemStatus::Pending);
                StepUpdate {
                    not_before: if decided { now } else { *until },
                    parked: true,
                    ..StepUpdate::new(StepEvent::Park, now)
                }
            }
            Outcome::Spawn { child } => {
                let run_id = app::ops::runs::start_in(
                    &mut *tx,
                    &app::domain::audit::Actor(child.started_by.clone()),
                    &child.runnable,
                    &child.input,
                    app::ops::runs::Via::Child(&c.run_id, &c.node_id),
                    now,
                )
                .await?;
                tracing::info!(run_id = %c.run_id, node_id = %c.node_id, child = %run_id, "child run started");
                attempt.outcome = "parked";
                StepUpdate {
                    not_before: super::approval::NEVER,
                    parked: true,
                    ..StepUpdate::new(StepEvent::Park, now)
                }
            }
            Outcome::Iterate { items } => {
                store::insert_items(&mut *tx, &c.run_id, &c.node_id, c.attempt, items).await?;
                app::ops::foreach::fill(&mut *tx, &c.run_id, &c.node_id, c.attempt, now).await?;
                tracing::info!(run_id = %c.run_id, node_id = %c.node_id, items = items.len(), "for each started");
                attempt.outcome = "parked";
                StepUpdate {
                    not_before: super::approval::NEVER,
                    parked: true,
                    ..StepUpdate::new(StepEvent::Park, now)
                }
            }
            Outcome::Failed {
                class,
                message,
                retry_after_ms,
            } => {
                let class_name = class.as_str();
                attempt.outcome = "failed";
                attempt.error_class = Some(class_name);
                attempt.error = Some(message);
                let node_id = store::compensated_node(&c.node_id).unwrap_or(&c.node_id);
                let policy = def
                    .node(node_id)
                    .map(|n| n.retry.for_class(*class).clone())
                    .unwrap_or_else(|| app::domain::graph::RetryPolicy::attempts(1));
                let mut update = StepUpdate {
                    error_class: Some(class_name),
                    error: Some(message),
                    ..StepUpdate::new(StepEvent::Fail, now)
                };
                // a loop's step counts its attempts from its current pass
                let base = store::pass_base(&mut *tx, &c.run_id, &c.node_id).await?;
                let tried = (c.attempt - base).max(1) as u32;
                match after_failure(&policy, tried, (self.jitter)()) {
                    AfterFailure::Retry { delay_ms } => {
                        let delay_ms =
                            app::domain::machine::honour_retry_after(delay_ms, *retry_after_ms);
                        update.event = StepEvent::FailRetry;
                        update.not_before = app::domain::limits::after(now, delay_ms);
                        update.finished_at = None;
                        tracing::info!(
                            class = class_name,
                            delay_ms,
                            "attempt failed; retrying: {message}"
                        );
                    }
                    AfterFailure::GiveUp => {
                        if progress::has_error_edge(def, &c.node_id) {
                            update.port = Some(app::domain::PORT_ERROR);
                        }
                        tracing::warn!(class = class_name, "step failed: {message}");
                        finished_final = true;
                    }
                }
                update
            }
        };
        if c.unwritten {
            update.claim = Some((c.attempt, started));
        }
        let kept = match told.steps.as_mut() {
            Some(w) => {
                // the claimed step's result joins the stretch's writes
                // when nothing reads it back before they are written
                if keeps && store::compensated_node(&c.node_id).is_none() {
                    w.adopt(&c.node_id);
                }
                w.update(&c.node_id, &update)?
            }
            None => false,
        };
        if !kept {
            if let Some(w) = told.steps.as_mut() {
                // its finish comes after those kept
                w.flush(&mut *tx).await?;
            }
            let seq = store::update_step(&mut *tx, &c.run_id, &c.node_id, &update).await?;
            if let Some(w) = told.steps.as_mut() {
                w.note(&c.node_id, update.status(), seq);
            }
        }
        if let Some(s) = states.as_mut() {
            // its loop pass stays as it was
            let state = s
                .entry(c.node_id.clone())
                .or_insert_with(|| NodeState::new(update.status()));
            state.status = update.status();
            state.port = update.port.map(str::to_string);
            state.cum_confidence = update.cum_confidence;
        }
        match told.attempts.as_mut() {
            Some(kept) => {
                let pass = told.steps.as_ref().and_then(|w| w.pass(&c.node_id));
                kept.push(store::AttemptRow::of(&attempt).in_pass(pass));
            }
            None => store::insert_attempt(&mut *tx, &attempt).await?,
        }
        let label = match (update.event, attempt.outcome) {
            (StepEvent::FailRetry, _) => "retrying",
            (_, "parked") => "parked",
            (_, "failed") => "failed",
            _ => "succeeded",
        };
        let escalated = gated.is_some();
        told.seen.push(super::observe::Seen::of(
            def, c, reported, escalated, label, call, started, now,
        ));
        if !finished_final {
            return Ok(Default::default());
        }
        if store::compensated_node(&c.node_id).is_some() {
            // Whatever its result, the next compensation goes on.
            store::next_compensation(&mut *tx, &c.run_id, now).await?;
            *states = None;
            return Ok(Default::default());
        }
        let held = match states {
            Some(s) => s,
            None => {
                if let Some(w) = told.steps.as_mut() {
                    w.ensure_written(&mut *tx).await?;
                }
                states.insert(store::node_states(&mut *tx, &c.run_id).await?)
            }
        };
        let step = [c.node_id.as_str()];
        let advanced = progress::advance_from(
            &mut *tx,
            def,
            &c.run_id,
            held,
            &step,
            "engine",
            now,
            told.steps.as_mut(),
        )
        .await?;
        if advanced.ended.is_some() {
            told.run_ended = true;
            told.ended = advanced.ended;
            // ending may cancel steps and queue compensations
            *states = None;
        }
        Ok(advanced)
    }
}
