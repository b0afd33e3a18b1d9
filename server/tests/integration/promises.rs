//! Regression tests for the paths on which the engine and approvals broke
//! their promises (issue 12): retries of gated and approval steps, a
//! deadline racing a person, who a token is, N-of-M edits, retries after a
//! handled error, and leases of long or crashing steps. Each test is named
//! after what it proves.

use crate::approvals::{approval, approve, doubtful, flow, item, person, waiting_at};
use crate::common::receiver::{Answer, Receiver};
use crate::common::world::*;
use app::domain::audit::Actor;
use app::domain::auth::Role;
use app::domain::graph::*;
use app::domain::run::{ItemStatus, RunStatus, StepStatus};
use app::ops::approvals::{DecisionInput, decide};
use serde_json::json;

fn reject(comment: &str) -> DecisionInput {
    DecisionInput {
        decision: "reject".into(),
        comment: comment.into(),
        ..Default::default()
    }
}

/// ann (an approver) decides the item; it must be taken.
async fn ann_decides(w: &World, id: &str, input: DecisionInput) {
    decide(
        &w.db,
        &person("ann", Role::Approver),
        id,
        input,
        w.clock.now_ms(),
    )
    .await
    .unwrap();
}

async fn retry(w: &World, run: &str, node: &str) -> Result<(), app::error::AppError> {
    app::ops::runs::retry_step(
        &w.db,
        &Actor("user:ops".into()),
        run,
        node,
        None,
        w.clock.now_ms(),
    )
    .await
}

async fn latest_event(w: &World, action: &str) -> app::domain::audit::AuditEvent {
    w.event(action, None).await
}

#[tokio::test]
async fn retrying_a_rejected_confidence_gated_step_asks_a_person_again() {
    let w = World::new().await;
    let run = w.start(doubtful(), json!({})).await;
    w.idle().await;
    let first = item(&w, &run, "b").await;
    ann_decides(&w, &first.id, reject("no")).await;
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Failed);
    retry(&w, &run, "b").await.unwrap();
    w.idle().await;
    // regression: no new item was created and the run waited forever
    let again = item(&w, &run, "b").await;
    assert_ne!(again.id, first.id, "a new item");
    assert_eq!(again.status, ItemStatus::Pending);
    assert_eq!(w.step(&run, "b").await.status, StepStatus::Waiting);
    ann_decides(&w, &again.id, approve("ok")).await;
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
    // the first decision stays in the history, decided as it was
    let (old, _) = app::ops::approvals::get(&w.db, &first.id).await.unwrap();
    assert_eq!(old.status, ItemStatus::Rejected);
}

#[tokio::test]
async fn a_gated_step_whose_policy_allows_another_attempt_asks_again() {
    let w = World::new().await;
    let mut d = doubtful();
    let b = d.nodes.iter_mut().find(|n| n.id == "b").unwrap();
    // a wake-up of a parked step counts as an attempt: 3 = ask, wake, ask
    b.retry.business = RetryPolicy::attempts(3);
    let run = w.start(d, json!({})).await;
    w.idle().await;
    let first = item(&w, &run, "b").await;
    ann_decides(&w, &first.id, reject("redo")).await;
    w.idle().await;
    w.clock.advance(3_600_000);
    w.idle().await;
    let second = item(&w, &run, "b").await;
    assert_ne!(second.id, first.id, "the second attempt asks anew");
    assert_eq!(second.status, ItemStatus::Pending);
    ann_decides(&w, &second.id, approve("")).await;
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
    assert_eq!(w.step(&run, "b").await.attempt, 4, "ask, wake, ask, wake");
}

#[tokio::test]
async fn retrying_a_rejected_approval_step_asks_again_instead_of_failing_at_once() {
    let w = World::new().await;
    let (run, first) = waiting_at(
        &w,
        approval("gate", &["approver"], 1),
        json!({"amount": 3, "vendor": "V"}),
    )
    .await;
    ann_decides(&w, &first.id, reject("wrong")).await;
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Failed);
    retry(&w, &run, "gate").await.unwrap();
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Running);
    let again = item(&w, &run, "gate").await;
    assert_ne!(again.id, first.id);
    ann_decides(&w, &again.id, approve("")).await;
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
}

/// A person deciding and the deadline firing at the same moment, many
/// times over on a multi-threaded runtime: exactly one wins, and the step
/// ends the way the winner decided. (Before, the deadline read the item
/// outside its transaction: a human approval could end as a rejection, and
/// an escalation racing a decision parked the step forever.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadline_and_a_human_decision_race_and_exactly_one_wins() {
    let w = std::sync::Arc::new(World::new().await);
    for round in 0u32..24 {
        let action = match round % 3 {
            0 => DeadlineAction::Reject,
            1 => DeadlineAction::Approve,
            _ => DeadlineAction::Escalate {
                role: "approver".into(),
            },
        };
        let mut a = approval("gate", &["approver"], 1);
        if let NodeKind::Approval(cfg) = &mut a.kind {
            cfg.deadline = Some(Deadline {
                after_ms: 1_000,
                action: action.clone(),
            });
        }
        let mut d = flow(a);
        d.edges.push(Edge::new("gate", "rejected", "end"));
        let run = w.start(d, json!({"amount": round, "vendor": "V"})).await;
        w.idle().await;
        let it = item(&w, &run, "gate").await;
        w.clock.advance(1_500);
        let human = !round.is_multiple_of(2);
        let (engine_w, decide_w) = (w.clone(), w.clone());
        let id = it.id.clone();
        let (_, decided) = tokio::join!(
            tokio::spawn(async move { engine_w.idle().await }),
            tokio::spawn(async move {
                let input = if human { approve("yes") } else { reject("no") };
                let now = decide_w.clock.now_ms();
                decide(
                    &decide_w.db,
                    &person("ann", Role::Approver),
                    &id,
                    input,
                    now,
                )
                .await
            })
        );
        w.idle().await;
        let decided = decided.unwrap();
        let after = item(&w, &run, "gate").await;
        let step = w.step(&run, "gate").await;
        let r = w.run(&run).await.run;
        assert_eq!(r.status, RunStatus::Succeeded, "round {round}: {after:?}");
        match (&decided, &action) {
            // the person won: the step went their way
            (Ok(_), _) => {
                let want = if human { "out" } else { "rejected" };
                assert_eq!(step.port.as_deref(), Some(want), "round {round}");
                assert_eq!(after.decided_by.as_deref(), Some("user:ann"));
            }
            // the deadline won: the person was told so, and it went the
            // deadline's way
            (Err(e), DeadlineAction::Reject | DeadlineAction::Approve) => {
                assert!(
                    e.message.starts_with("already"),
                    "round {round}: {}",
                    e.message
                );
                assert_eq!(after.decided_by.as_deref(), Some("deadline"));
                let want = if matches!(action, DeadlineAction::Approve) {
                    "out"
                } else {
                    "rejected"
                };
                assert_eq!(step.port.as_deref(), Some(want), "round {round}");
            }
            (Err(e), DeadlineAction::Escalate { .. }) => {
                panic!(
                    "round {round}: an escalation to the same role refused ann: {}",
                    e.message
                )
            }
        }
    }
}

#[tokio::test]
async fn a_token_acts_for_its_creator_in_every_approval_rule() {
    use app::ops::accounts::{create_token, token_principal};
    let w = World::new().await;
    let now = w.clock.now_ms();
    let alice_token = create_token(&w.db, "user:alice", "alice-ci", Role::Approver, now)
        .await
        .unwrap();
    let alice_via = token_principal(&w.db, &alice_token.secret, now)
        .await
        .unwrap()
        .unwrap();
    assert!(
        alice_via.actor.starts_with("user:alice via token:tok_"),
        "{}",
        alice_via.actor
    );
    // N-of-M counts people: alice by session and by token is one approver
    let (_, i) = waiting_at(
        &w,
        approval("ok", &["approver"], 2),
        json!({"amount": 1, "vendor": "V"}),
    )
    .await;
    decide(
        &w.db,
        &person("alice", Role::Approver),
        &i.id,
        approve(""),
        now,
    )
    .await
    .unwrap();
    let e = decide(&w.db, &alice_via, &i.id, approve(""), now)
        .await
        .unwrap_err();
    assert!(e.message.contains("already decided"), "{}", e.message);

    // a token's *name* is not a person: a token named "carol" made by an
    // admin does not satisfy a rule naming carol
    let carol_named = create_token(&w.db, "user:root", "carol", Role::Approver, now)
        .await
        .unwrap();
    let carol_named = token_principal(&w.db, &carol_named.secret, now)
        .await
        .unwrap()
        .unwrap();
    let mut named = approval("ok", &[], 1);
    if let NodeKind::Approval(cfg) = &mut named.kind {
        cfg.approvers.users = vec!["carol".into()];
    }
    let run2 = w
        .start(flow(named), json!({"amount": 2, "vendor": "V"}))
        .await;
    w.idle().await;
    let i2 = item(&w, &run2, "ok").await;
    let e = decide(&w.db, &carol_named, &i2.id, approve(""), now)
        .await
        .unwrap_err();
    assert_eq!(e.message, "only carol may decide this item");

    // self-approval compares people: alice started the run through her
    // token, and may not approve it in the browser
    let run3 = w
        .start_as(
            &Actor(alice_via.actor.clone()),
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": 3, "vendor": "V"}),
        )
        .await;
    w.idle().await;
    let i3 = item(&w, &run3, "ok").await;
    assert_eq!(i3.started_by, "user:alice", "the person, not the token");
    let e = decide(
        &w.db,
        &person("alice", Role::Approver),
        &i3.id,
        approve(""),
        now,
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("you started this run"), "{}", e.message);
    let inbox = app::ops::approvals::list(
        &w.db,
        &person("alice", Role::Approver),
        Default::default(),
        now,
    )
    .await
    .unwrap();
    assert!(
        inbox.items.iter().all(|x| x.id != i3.id),
        "not offered to her either"
    );
    // bob decides it through his token: the audit trail names both
    let bob = create_token(&w.db, "user:bob", "bob-cli", Role::Approver, now)
        .await
        .unwrap();
    let bob_via = token_principal(&w.db, &bob.secret, now)
        .await
        .unwrap()
        .unwrap();
    decide(&w.db, &bob_via, &i3.id, approve("fine"), now)
        .await
        .unwrap();
    let ev = latest_event(&w, "approval.decided").await;
    assert!(
        ev.actor.starts_with("user:bob via token:tok_"),
        "{}",
        ev.actor
    );
    let (_, decisions) = app::ops::approvals::get(&w.db, &i3.id).await.unwrap();
    assert_eq!(decisions[0].actor, "user:bob");
    assert!(
        decisions[0]
            .via
            .as_deref()
            .unwrap()
            .starts_with("token:tok_")
    );
}

#[tokio::test]
async fn with_n_of_m_later_approvers_see_earlier_edits_and_the_audit_records_who_changed_what() {
    let w = World::new().await;
    let (run, i) = waiting_at(
        &w,
        approval("ok", &["approver"], 2),
        json!({"amount": 5300, "vendor": "ACME"}),
    )
    .await;
    let now = w.clock.now_ms();
    let edit = DecisionInput {
        output: Some(json!({"amount": 5200, "vendor": "ACME"})),
        ..approve("amount was off")
    };
    decide(&w.db, &person("ann", Role::Approver), &i.id, edit, now)
        .await
        .unwrap();
    let ev = latest_event(&w, "approval.decided").await;
    assert_eq!(
        ev.details["changed"],
        json!([{"path": ".amount", "from": 5300, "to": 5200}])
    );
    // bob sees ann's edit, and approving it as it is keeps it
    let seen = item(&w, &run, "ok").await;
    assert_eq!(
        seen.current_output,
        Some(json!({"amount": 5200, "vendor": "ACME"}))
    );
    let as_seen = DecisionInput {
        output: seen.current_output.clone(),
        ..approve("")
    };
    decide(&w.db, &person("bob", Role::Approver), &i.id, as_seen, now)
        .await
        .unwrap();
    w.idle().await;
    let r = w.run(&run).await.run;
    assert_eq!(r.output, Some(json!({"amount": 5200, "vendor": "ACME"})));
    let (done, decisions) = app::ops::approvals::get(&w.db, &i.id).await.unwrap();
    assert_eq!(done.final_output, r.output);
    assert_eq!(
        decisions
            .iter()
            .map(|d| (d.actor.as_str(), d.output.is_some()))
            .collect::<Vec<_>>(),
        [("user:ann", true), ("user:bob", false)],
        "who changed what: ann edited, bob approved as it stood"
    );
}

#[tokio::test]
async fn retrying_a_step_whose_failure_was_handled_is_refused_and_changes_nothing() {
    let w = World::new().await;
    let rx = Receiver::start(|_, _| Answer {
        status: 422,
        delay_ms: 0,
    })
    .await;
    let mut call = http("call", &rx.url);
    call.retry.business = RetryPolicy::attempts(1);
    let d = def(
        vec![
            start(),
            call,
            transform("fallback", "{fallback: true}"),
            end("end", Some(".steps.fallback.output")),
        ],
        vec![
            ("start", "out", "call"),
            ("call", "out", "end"),
            ("call", "error", "fallback"),
            ("fallback", "out", "end"),
        ],
    );
    let run = w.start(d, json!({})).await;
    w.idle().await;
    let before = w.run(&run).await;
    assert_eq!(before.run.status, RunStatus::Succeeded);
    let e = retry(&w, &run, "call").await.unwrap_err();
    assert!(e.message.contains("error path took over"), "{}", e.message);
    let after = w.run(&run).await;
    assert_eq!(after.run.status, RunStatus::Succeeded, "not reopened");
    assert_eq!(
        after
            .steps
            .iter()
            .map(|s| (s.node_id.clone(), s.status))
            .collect::<Vec<_>>(),
        before
            .steps
            .iter()
            .map(|s| (s.node_id.clone(), s.status))
            .collect::<Vec<_>>()
    );
}

/// The lease is renewed while a step runs: a call slower than the lease is
/// made once, and recovery running all the while never takes it away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_longer_than_its_lease_is_renewed_and_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::common::fresh_db(dir.path()).await;
    let rx = Receiver::start(|_, _| Answer {
        status: 200,
        delay_ms: 2_500,
    })
    .await;
    let engine = std::sync::Arc::new(crate::common::engine(
        db.clone(),
        std::sync::Arc::new(server::engine::SystemClock),
        600,
    ));
    let d = def(
        vec![start(), http("slow", &rx.url), end("end", None)],
        vec![("start", "out", "slow"), ("slow", "out", "end")],
    );
    let wf = app::ops::workflows::create(&db, &Actor::anonymous(), "slow", &d, false, 0)
        .await
        .unwrap();
    let now = app::ops::now_ms();
    let run = app::ops::runs::start(
        &db,
        &Actor::anonymous(),
        &wf.workflow_id,
        None,
        &json!({}),
        app::ops::runs::Via::Api,
        now,
    )
    .await
    .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let config = server::engine::EngineConfig {
        lease_ms: 600,
        recovery_every: std::time::Duration::from_millis(50),
        workers: 2,
    };
    let handles = engine.spawn(&config, stopped);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = app::ops::runs::get(&db, &run).await.unwrap();
        if r.run.status != RunStatus::Running || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
    let r = app::ops::runs::get(&db, &run).await.unwrap();
    assert_eq!(r.run.status, RunStatus::Succeeded);
    assert_eq!(rx.calls().len(), 1, "called once: {:?}", rx.calls());
    let slow = r.steps.iter().find(|s| s.node_id == "slow").unwrap();
    assert_eq!(slow.attempt, 1, "never taken away");
}

/// A step whose worker dies every time (it takes the process down) fails
/// after `MAX_LOST_ATTEMPTS` lost attempts instead of crash-looping, and
/// its run ends saying why.
#[tokio::test]
async fn a_step_whose_worker_keeps_dying_fails_after_three_lost_attempts() {
    let w = World::new().await;
    let rx = Receiver::start(|_, _| Answer::ok()).await;
    let d = def(
        vec![start(), http("deadly", &rx.url), end("end", None)],
        vec![("start", "out", "deadly"), ("deadly", "out", "end")],
    );
    let run = w.start(d, json!({})).await;
    // the Start step runs; then each time a worker takes the Http step
    // and dies (its claim is made and never finished)
    w.engine.tick().await.unwrap();
    for died in 1..=app::store::runs::MAX_LOST_ATTEMPTS {
        let mut conn = w.db.acquire().await.unwrap();
        let now = w.clock.now_ms();
        let c = app::store::runs::claim(&mut conn, "doomed", now, now + 30_000)
            .await
            .unwrap()
            .expect("the step is due");
        assert_eq!((c.node_id.as_str(), c.attempt), ("deadly", died));
        drop(conn);
        w.clock.advance(31_000);
        w.engine.recover().await.unwrap();
    }
    w.idle().await;
    assert!(rx.calls().is_empty(), "never run by a live worker");
    let s = w.step(&run, "deadly").await;
    assert_eq!(s.status, StepStatus::Failed);
    assert!(
        s.error
            .as_deref()
            .unwrap()
            .contains("stopped before it finished, 3 times"),
        "{:?}",
        s.error
    );
    let r = w.run(&run).await.run;
    assert_eq!(r.status, RunStatus::Failed);
    let attempts = app::ops::runs::attempts(&w.db, &run, app::domain::records::Paging::FIRST)
        .await
        .unwrap();
    let lost = attempts
        .iter()
        .filter(|a| a.node_id == "deadly" && a.outcome == "lost")
        .count();
    assert_eq!(lost, 3, "each lost attempt is in the step log");
}

#[tokio::test]
async fn a_token_stops_working_when_the_person_it_acts_for_is_disabled() {
    use app::ops::accounts::{create_token, create_user, token_principal, update_user};
    let w = World::new().await;
    let now = w.clock.now_ms();
    let hal = create_user(
        &w.db,
        "user:root",
        "hal",
        "Hal",
        "a fine password",
        Role::Approver,
        now,
    )
    .await
    .unwrap();
    let t = create_token(&w.db, "user:hal", "hal-ci", Role::Approver, now)
        .await
        .unwrap();
    assert!(
        token_principal(&w.db, &t.secret, now)
            .await
            .unwrap()
            .is_some()
    );
    update_user(&w.db, "user:root", &hal.id, None, Some(true), now)
        .await
        .unwrap();
    assert!(
        token_principal(&w.db, &t.secret, now)
            .await
            .unwrap()
            .is_none(),
        "refused like a revoked token"
    );
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_though_its_lookup_was_kept() {
    use app::ops::accounts::{create_token, revoke_token, token_principal};
    let w = World::new().await;
    let now = w.clock.now_ms();
    let t = create_token(&w.db, "user:root", "ci", Role::Editor, now)
        .await
        .unwrap();
    // looked up twice: the second answer is the kept one
    for _ in 0..2 {
        let p = token_principal(&w.db, &t.secret, now).await.unwrap();
        assert_eq!(p.map(|p| p.role), Some(Role::Editor));
    }
    revoke_token(&w.db, "user:root", &t.token.id, now)
        .await
        .unwrap();
    assert!(
        token_principal(&w.db, &t.secret, now)
            .await
            .unwrap()
            .is_none(),
        "a revoked token is refused on the next request"
    );
}

#[tokio::test]
async fn a_retry_gives_the_run_its_whole_timeout_again() {
    let w = World::new().await;
    let rx = Receiver::scripted(vec![422]).await;
    let mut d = def(
        vec![start(), http("call", &rx.url), end("end", None)],
        vec![("start", "out", "call"), ("call", "out", "end")],
    );
    d.settings.run_timeout_ms = Some(60_000);
    let run = w.start(d, json!({})).await;
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Failed);
    // long after the first deadline, someone fixes the cause and retries
    w.clock.advance(3_600_000);
    retry(&w, &run, "call").await.unwrap();
    w.idle().await;
    // regression: the reopened run kept its old deadline and recovery
    // failed it at once
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
    assert_eq!(rx.calls().len(), 2);
}

/// One run that cannot be recovered (its workflow version cannot be read)
/// is logged and skipped; every other expired lease and overdue run is
/// still recovered, and recovery (as at the server's start) succeeds.
#[tokio::test]
async fn recovery_goes_on_past_a_run_it_cannot_recover() {
    let w = World::new().await;
    let rx = Receiver::start(|_, _| Answer::ok()).await;
    let flow = || {
        def(
            vec![start(), http("call", &rx.url), end("end", None)],
            vec![("start", "out", "call"), ("call", "out", "end")],
        )
    };
    let broken = w.start(flow(), json!({})).await;
    let fine = w.start(flow(), json!({})).await;
    let mut timed = flow();
    timed.settings.run_timeout_ms = Some(1_000);
    let broken_late = w.start(timed.clone(), json!({})).await;
    let late = w.start(timed, json!({})).await;
    // every first step is taken by a worker that dies
    let mut conn = w.db.acquire().await.unwrap();
    let now = w.clock.now_ms();
    while app::store::runs::claim(&mut conn, "doomed", now, now + 30_000)
        .await
        .unwrap()
        .is_some()
    {}
    // two runs point at a workflow version that does not exist; the first
    // also lost its step twice before, so giving it up needs the definition
    drop(conn);
    let mut conn = w.db.acquire().await.unwrap();
    // foreign keys off for this connection
    let (off, on) = match conn.backend() {
        app::store::conn::Backend::Sqlite => {
            ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON")
        }
        app::store::conn::Backend::Postgres => (
            "SET session_replication_role = replica",
            "SET session_replication_role = DEFAULT",
        ),
    };
    app::store::conn::query(off)
        .execute(&mut conn)
        .await
        .unwrap();
    app::store::conn::query("UPDATE runs SET version = 999 WHERE id IN ($1, $2)")
        .bind(&broken)
        .bind(&broken_late)
        .execute(&mut conn)
        .await
        .unwrap();
    app::store::conn::query("UPDATE steps SET lost = 2 WHERE run_id = $1")
        .bind(&broken)
        .execute(&mut conn)
        .await
        .unwrap();
    app::store::conn::query(on)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    w.clock.advance(31_000);
    w.engine.recover().await.expect("recovery itself succeeds");
    // the workers go on (a step of a broken run fails to load, is logged,
    // and waits for its lease like any other)
    for _ in 0..20 {
        if let Ok(false) = w.engine.tick().await {
            break;
        }
    }
    assert_eq!(w.run(&fine).await.run.status, RunStatus::Succeeded);
    assert_eq!(w.run(&late).await.run.status, RunStatus::Failed);
    assert!(
        w.run(&late)
            .await
            .run
            .error
            .unwrap()
            .contains("timeout of 1000 ms"),
        "the overdue run timed out"
    );
    assert_eq!(
        w.step(&broken, "start").await.status,
        StepStatus::Running,
        "left for a person to look at"
    );
}
