//! Approval steps through the engine: waiting without a worker, who may
//! decide, N-of-M, rejection paths, deadlines with a clock the test moves,
//! parallel approvals before a Join, and a restart while waiting.

use crate::common::world::*;
use app::domain::approvals::{ApprovalFilter, ApprovalItem};
use app::domain::audit::Actor;
use app::domain::auth::{Principal, Role};
use app::domain::graph::*;
use app::domain::run::{ItemStatus, RunStatus, StepStatus};
use app::ops::approvals::{DecisionInput, decide};
use serde_json::{Value, json};

pub(crate) fn person(name: &str, role: Role) -> Principal {
    Principal::user(name, role)
}

pub(crate) fn approval(id: &str, roles: &[&str], required: u32) -> Node {
    Node::new(
        id,
        id,
        NodeKind::Approval(ApprovalConfig {
            title: "Approve {{ input.vendor }}".into(),
            instructions: "Check {{ steps.calc.output.amount }}".into(),
            approvers: Approvers {
                roles: roles.iter().map(|r| r.to_string()).collect(),
                users: vec![],
            },
            required_approvals: required,
            allow_self_approval: false,
            form: vec![],
            deadline: None,
        }),
    )
}

/// Start -> calc -> <approval> -> End(output = the approval's output).
pub(crate) fn flow(a: Node) -> WorkflowDef {
    let id = a.id.clone();
    def(
        vec![
            start(),
            transform("calc", "{amount: .input.amount, vendor: .input.vendor}"),
            a,
            end("end", Some(&format!(".steps.{id}.output"))),
        ],
        vec![
            ("start", "out", "calc"),
            ("calc", "out", &id),
            (&id, "out", "end"),
        ],
    )
}

pub(crate) async fn item(w: &World, run: &app::domain::ids::RunId, node: &str) -> ApprovalItem {
    let mut conn = w.db.acquire().await.unwrap();
    app::store::approvals::for_step(&mut conn, run, node)
        .await
        .unwrap()
        .expect("an item")
}

/// Starts `flow(a)` with `input` and runs it to its approval: the run and
/// the item waiting there.
pub(crate) async fn waiting_at(
    w: &World,
    a: Node,
    input: Value,
) -> (app::domain::ids::RunId, ApprovalItem) {
    let node = a.id.clone();
    let run = w.start(flow(a), input).await;
    w.idle().await;
    let i = item(w, &run, &node).await;
    (run, i)
}

pub(crate) fn approve(comment: &str) -> DecisionInput {
    DecisionInput {
        decision: "approve".into(),
        comment: comment.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_approval_waits_without_a_worker_and_the_edited_output_goes_on() {
    let w = World::new().await;
    let run = w
        .start(
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": 1200, "vendor": "ACME"}),
        )
        .await;
    w.idle().await;
    let s = w.step(&run, "ok").await;
    assert_eq!(s.status, StepStatus::Waiting);
    assert_eq!(w.run(&run).await.run.status, RunStatus::Running);
    let i = item(&w, &run, "ok").await;
    assert_eq!(i.status.as_str(), "pending");
    assert_eq!(i.title, "Approve ACME");
    assert_eq!(i.instructions, "Check 1200");
    assert_eq!(i.proposed, json!({"amount": 1200, "vendor": "ACME"}));
    assert_eq!(i.context["steps"]["calc"]["output"]["amount"], 1200);

    // an editor may not; an approver edits the amount and approves
    let e = decide(&w.db, &person("ed", Role::Editor), &i.id, approve(""), T0)
        .await
        .unwrap_err();
    assert_eq!(e.code.http_status(), 403, "{e:?}");
    let edited = DecisionInput {
        output: Some(json!({"amount": 1100, "vendor": "ACME"})),
        ..approve("checked against the PO")
    };
    let after = decide(
        &w.db,
        &person("ann", Role::Approver),
        &i.id,
        edited,
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    assert_eq!(after.status.as_str(), "approved");
    w.idle().await;
    let r = w.run(&run).await;
    assert_eq!(r.run.status, RunStatus::Succeeded);
    assert_eq!(
        r.run.output,
        Some(json!({"amount": 1100, "vendor": "ACME"}))
    );
    let s = w.step(&run, "ok").await;
    assert_eq!(s.confidence, Some(1.0), "a person checked it");

    // the decision is kept as a labelled example
    let (jsonl, next) =
        app::ops::approvals::export_page(&w.db, &i.workflow_id, Some("ok"), None, 500)
            .await
            .unwrap();
    assert_eq!(next, None, "one page");
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["input"], json!({"amount": 1200, "vendor": "ACME"}));
    assert_eq!(lines[0]["proposed_output"]["amount"], 1200);
    assert_eq!(lines[0]["final_output"]["amount"], 1100);
    assert_eq!(lines[0]["decision"], "approved");
    assert_eq!(lines[0]["reviewer"], "user:ann");
    assert_eq!(lines[0]["comment"], "checked against the PO");

    // deciding again is refused with who decided and when
    let e = decide(
        &w.db,
        &person("bo", Role::Approver),
        &i.id,
        approve(""),
        T0 + 9,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code.http_status(), 409);
    assert!(
        e.message.starts_with("already approved by user:ann at "),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn n_of_m_needs_different_people_and_the_starter_may_not_approve() {
    let w = World::new().await;
    let sam = person("sam", Role::Approver);
    let run = w
        .start_as(
            &Actor(sam.actor.clone()),
            flow(approval("two", &["approver"], 2)),
            json!({"amount": 1, "vendor": "V"}),
        )
        .await;
    w.idle().await;
    let i = item(&w, &run, "two").await;
    let e = decide(&w.db, &sam, &i.id, approve(""), T0)
        .await
        .unwrap_err();
    assert!(e.message.contains("you started this run"), "{}", e.message);
    let one = decide(
        &w.db,
        &person("ann", Role::Approver),
        &i.id,
        approve("1"),
        T0,
    )
    .await
    .unwrap();
    assert_eq!((one.status.as_str(), one.approvals), ("pending", 1));
    let e = decide(
        &w.db,
        &person("ann", Role::Approver),
        &i.id,
        approve("again"),
        T0,
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("already decided"), "{}", e.message);
    w.idle().await;
    assert_eq!(
        w.step(&run, "two").await.status,
        StepStatus::Waiting,
        "one of two is not enough"
    );
    let two = decide(
        &w.db,
        &person("bo", Role::Approver),
        &i.id,
        approve("2"),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(two.status.as_str(), "approved");
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn rejection_takes_the_rejected_edge_or_fails_the_run() {
    let w = World::new().await;
    // without a rejected edge: the run fails as a business error
    let run = w
        .start(
            flow(approval("gate", &["approver"], 1)),
            json!({"amount": 1, "vendor": "V"}),
        )
        .await;
    w.idle().await;
    let i = item(&w, &run, "gate").await;
    let no = DecisionInput {
        decision: "reject".into(),
        comment: "wrong vendor".into(),
        ..Default::default()
    };
    decide(&w.db, &person("ann", Role::Approver), &i.id, no.clone(), T0)
        .await
        .unwrap();
    w.idle().await;
    let r = w.run(&run).await;
    assert_eq!(r.run.status, RunStatus::Failed);
    let s = w.step(&run, "gate").await;
    assert_eq!(
        s.error.as_deref(),
        Some("rejected by user:ann: wrong vendor")
    );

    // with one: the run goes that way
    let mut d = flow(approval("gate", &["approver"], 1));
    d.nodes.push(Node::new(
        "sorry",
        "sorry",
        NodeKind::Fail {
            message: "rejected".into(),
        },
    ));
    d.edges.push(Edge::new("gate", "rejected", "sorry"));
    let run = w.start(d, json!({"amount": 1, "vendor": "V"})).await;
    w.idle().await;
    let i = item(&w, &run, "gate").await;
    decide(&w.db, &person("ann", Role::Approver), &i.id, no, T0)
        .await
        .unwrap();
    w.idle().await;
    assert_eq!(w.step(&run, "gate").await.status, StepStatus::Succeeded);
    assert_eq!(w.step(&run, "sorry").await.status, StepStatus::Failed);
    assert_eq!(w.step(&run, "end").await.status, StepStatus::Skipped);
}

#[tokio::test]
async fn approvals_on_parallel_paths_all_hold_the_join() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform("calc", "{amount: 1}"),
            approval("legal", &["approver"], 1),
            approval("finance", &["approver"], 1),
            Node::new("join", "join", NodeKind::Join {}),
            end(
                "end",
                Some("{legal: .steps.legal.output, finance: .steps.finance.output}"),
            ),
        ],
        vec![
            ("start", "out", "calc"),
            ("calc", "out", "legal"),
            ("calc", "out", "finance"),
            ("legal", "out", "join"),
            ("finance", "out", "join"),
            ("join", "out", "end"),
        ],
    );
    let run = w.start(d, json!({})).await;
    w.idle().await;
    let legal = item(&w, &run, "legal").await;
    decide(
        &w.db,
        &person("ann", Role::Approver),
        &legal.id,
        approve(""),
        T0,
    )
    .await
    .unwrap();
    w.idle().await;
    assert_eq!(
        w.step(&run, "join").await.status,
        StepStatus::Pending,
        "finance still waits"
    );
    let finance = item(&w, &run, "finance").await;
    decide(
        &w.db,
        &person("ann", Role::Approver),
        &finance.id,
        approve(""),
        T0,
    )
    .await
    .unwrap();
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn deadlines_escalate_reject_or_approve_on_time() {
    let w = World::new().await;
    let with_deadline = |action: DeadlineAction| {
        let mut a = approval("a", &["approver"], 1);
        if let NodeKind::Approval(cfg) = &mut a.kind {
            cfg.deadline = Some(Deadline {
                after_ms: 60_000,
                action,
            });
        }
        flow(a)
    };
    let escalated = w
        .start(
            with_deadline(DeadlineAction::Escalate {
                role: "admin".into(),
            }),
            json!({"amount": 1, "vendor": "V"}),
        )
        .await;
    let rejected = w
        .start(
            with_deadline(DeadlineAction::Reject),
            json!({"amount": 1, "vendor": "V"}),
        )
        .await;
    let approved = w
        .start(
            with_deadline(DeadlineAction::Approve),
            json!({"amount": 7, "vendor": "V"}),
        )
        .await;
    w.idle().await;
    w.clock.advance(59_000);
    w.idle().await;
    assert_eq!(
        item(&w, &escalated, "a").await.escalated_to,
        None,
        "not yet"
    );
    w.clock.advance(2_000);
    w.idle().await;
    let e = item(&w, &escalated, "a").await;
    assert_eq!(
        (e.status.as_str(), e.escalated_to.as_deref()),
        ("pending", Some("admin"))
    );
    let err = decide(
        &w.db,
        &person("ann", Role::Approver),
        &e.id,
        approve(""),
        w.clock.now_ms(),
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("only role admin"), "{}", err.message);
    decide(
        &w.db,
        &person("root", Role::Admin),
        &e.id,
        approve(""),
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    w.idle().await;
    assert_eq!(w.run(&escalated).await.run.status, RunStatus::Succeeded);
    assert_eq!(w.run(&rejected).await.run.status, RunStatus::Failed);
    assert_eq!(
        item(&w, &rejected, "a").await.decided_by.as_deref(),
        Some("deadline")
    );
    let r = w.run(&approved).await;
    assert_eq!(r.run.status, RunStatus::Succeeded);
    assert_eq!(r.run.output, Some(json!({"amount": 7, "vendor": "V"})));
}

#[tokio::test]
async fn a_restart_while_waiting_loses_nothing() {
    let w = World::new().await;
    let run = w
        .start(
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": 3, "vendor": "V"}),
        )
        .await;
    w.idle().await;
    // a new engine on the same database, as after a crash
    let fresh = crate::common::engine(w.db.clone(), w.clock.clone(), 30_000);
    fresh.recover().await.unwrap();
    fresh.run_until_idle().await.unwrap();
    assert_eq!(w.step(&run, "ok").await.status, StepStatus::Waiting);
    let i = item(&w, &run, "ok").await;
    decide(
        &w.db,
        &person("ann", Role::Approver),
        &i.id,
        approve(""),
        T0,
    )
    .await
    .unwrap();
    fresh.run_until_idle().await.unwrap();
    let r = w.run(&run).await;
    assert_eq!(r.run.status, RunStatus::Succeeded);
    let _: Value = r.run.output.unwrap();
}

/// Start -> a (0.94) -> b (0.91) -> End, threshold 0.9 on the workflow.
pub(crate) fn doubtful() -> WorkflowDef {
    let mut d = def(
        vec![
            start(),
            transform("a", "{v: 1, confidence: 0.94}"),
            transform("b", "{total: 100, confidence: 0.91}"),
            end("end", Some(".steps.b.output")),
        ],
        vec![
            ("start", "out", "a"),
            ("a", "out", "b"),
            ("b", "out", "end"),
        ],
    );
    d.settings.confidence_threshold = Some(0.9);
    d
}

/// The workflow names who reviews its confidence gates; only they may.
#[tokio::test]
async fn confidence_gate_items_go_to_the_workflow_s_reviewers() {
    let w = World::new().await;
    let mut d = doubtful();
    d.settings.gate_reviewers.users = vec!["carol".into()];
    let run = w.start(d, json!({})).await;
    w.idle().await;
    let i = item(&w, &run, "b").await;
    assert_eq!(
        (i.roles.len(), i.users.clone()),
        (0, vec!["carol".to_string()])
    );
    let e = decide(
        &w.db,
        &person("ann", Role::Approver),
        &i.id,
        approve("looks fine"),
        w.clock.now_ms(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.message, "only carol may decide this item");
    decide(
        &w.db,
        &person("carol", Role::Approver),
        &i.id,
        approve("checked"),
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn a_run_whose_confidence_falls_below_the_threshold_asks_a_person() {
    let w = World::new().await;
    let run = w.start(doubtful(), json!({})).await;
    w.idle().await;
    // 0.94 passed; 0.94 x 0.91 = 0.855 < 0.9 stopped at b, End did not start
    assert_eq!(w.step(&run, "a").await.status, StepStatus::Succeeded);
    assert_eq!(w.step(&run, "b").await.status, StepStatus::Waiting);
    assert_eq!(w.step(&run, "end").await.status, StepStatus::Pending);
    let i = item(&w, &run, "b").await;
    assert_eq!(i.reason, "confidence");
    assert!(
        i.instructions
            .contains("0.940 × 0.910 = 0.855 is below the threshold 0.9"),
        "{}",
        i.instructions
    );
    assert_eq!(i.proposed, json!({"total": 100, "confidence": 0.91}));
    assert_eq!(i.roles, ["approver", "admin"], "the default reviewers");

    // approving with an edit: b's output is replaced and counts as checked
    let fix = DecisionInput {
        output: Some(json!({"total": 90})),
        ..approve("checked the invoice")
    };
    decide(
        &w.db,
        &person("ann", Role::Approver),
        &i.id,
        fix,
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    w.idle().await;
    let r = w.run(&run).await;
    assert_eq!(r.run.status, RunStatus::Succeeded);
    assert_eq!(r.run.output, Some(json!({"total": 90})));
    let b = w.step(&run, "b").await;
    assert_eq!(b.confidence, Some(1.0));
    assert!(
        (r.run.confidence.unwrap() - 0.94).abs() < 1e-9,
        "{:?}",
        r.run.confidence
    );

    // rejecting stops the run
    let run = w.start(doubtful(), json!({})).await;
    w.idle().await;
    let i = item(&w, &run, "b").await;
    let no = DecisionInput {
        decision: "reject".into(),
        comment: "numbers are off".into(),
        ..Default::default()
    };
    decide(
        &w.db,
        &person("ann", Role::Approver),
        &i.id,
        no,
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    w.idle().await;
    assert_eq!(w.run(&run).await.run.status, RunStatus::Failed);
    assert_eq!(
        w.step(&run, "b").await.error.as_deref(),
        Some("the result was rejected by user:ann: numbers are off")
    );
}

/// Every operation of the product, each followed by the audit event it
/// must have written (the newest event), with its actor.
#[tokio::test]
async fn every_operation_writes_its_audit_event() {
    use app::ops::{accounts, runs, secrets, workflows};
    let w = World::new().await;
    let ann = Actor("user:ann".into());
    let now = w.clock.now_ms();
    let newest = || async {
        let mut conn = w.db.acquire().await.unwrap();
        let e = app::store::audit::list(&mut conn, None, 1).await.unwrap();
        (e[0].action.clone(), e[0].actor.clone())
    };
    let mut checked = 0;
    macro_rules! expect {
        ($action:expr, $actor:expr) => {{
            assert_eq!(newest().await, ($action.to_string(), $actor.to_string()));
            checked += 1;
        }};
    }
    let wf = workflows::create(
        &w.db,
        &ann,
        "Audited",
        &flow(approval("ok", &["approver"], 1)),
        false,
        now,
    )
    .await
    .unwrap()
    .workflow_id;
    expect!("workflow.created", "user:ann");
    workflows::save_version(
        &w.db,
        &ann,
        &wf,
        &flow(approval("ok", &["approver"], 1)),
        false,
        now,
    )
    .await
    .unwrap();
    expect!("workflow.version_saved", "user:ann");
    workflows::rename(&w.db, &ann, &wf, "Audited again", now)
        .await
        .unwrap();
    expect!("workflow.renamed", "user:ann");
    let run = runs::start(
        &w.db,
        &ann,
        &wf,
        None,
        &json!({"amount": 1, "vendor": "V"}),
        app::ops::runs::Via::Api,
        now,
    )
    .await
    .unwrap();
    expect!("run.started", "user:ann");
    w.idle().await;
    expect!("approval.requested", "engine");
    let i = item(&w, &run, "ok").await;
    decide(
        &w.db,
        &person("bo", Role::Approver),
        &i.id,
        approve("fine"),
        w.clock.now_ms(),
    )
    .await
    .unwrap();
    expect!("approval.decided", "user:bo");
    w.idle().await;
    expect!("run.succeeded", "engine");
    let again = runs::rerun(&w.db, &ann, &run, false, now).await.unwrap();
    expect!("run.started", "user:ann");
    runs::cancel(&w.db, &ann, &again, now).await.unwrap();
    expect!("run.cancelled", "user:ann");
    let failing = w
        .start(
            def(
                vec![start(), transform("bad", "error(\"no\")"), end("end", None)],
                vec![("start", "out", "bad"), ("bad", "out", "end")],
            ),
            json!({}),
        )
        .await;
    // the format error is tried twice, a second apart
    w.idle().await;
    w.clock.advance(10_000);
    w.idle().await;
    expect!("run.failed", "engine");
    runs::retry_step(&w.db, &ann, &failing, "bad", None, w.clock.now_ms())
        .await
        .unwrap();
    expect!("step.retried", "user:ann");
    accounts::create_user(
        &w.db,
        "user:root",
        "carl",
        "",
        "a long password",
        Role::Viewer,
        now,
    )
    .await
    .unwrap();
    expect!("user.created", "user:root");
    let carl = accounts::list_users(&w.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "carl")
        .unwrap();
    accounts::update_user(&w.db, "user:root", &carl.id, Some(Role::Editor), None, now)
        .await
        .unwrap();
    expect!("user.changed", "user:root");
    accounts::sign_in(&w.db, "carl", "a long password", now)
        .await
        .unwrap();
    expect!("user.signed_in", "user:carl");
    let _ = accounts::sign_in(&w.db, "carl", "wrong", now).await;
    expect!("user.sign_in_failed", "anonymous");
    accounts::signed_out(&w.db, &Principal::user("carl", Role::Editor), now)
        .await
        .unwrap();
    expect!("user.signed_out", "user:carl");
    let t = accounts::create_token(&w.db, "user:root", "ci", Role::Viewer, now)
        .await
        .unwrap();
    expect!("token.created", "user:root");
    accounts::revoke_token(&w.db, "user:root", &t.token.id, now)
        .await
        .unwrap();
    expect!("token.revoked", "user:root");
    let sealer = app::security::Sealer::new([3; 32]);
    secrets::set_secret(
        &w.db,
        &sealer,
        "user:root",
        "API_KEY",
        "v",
        "api.example",
        now,
    )
    .await
    .unwrap();
    expect!("secret.saved", "user:root");
    secrets::delete_secret(&w.db, "user:root", "API_KEY", now)
        .await
        .unwrap();
    expect!("secret.deleted", "user:root");
    workflows::delete(&w.db, &ann, &wf, now).await.unwrap();
    expect!("workflow.deleted", "user:ann");
    assert_eq!(checked, 21);
    // and the chain over all of it holds
    let mut conn = w.db.acquire().await.unwrap();
    let report = app::store::audit::verify(&mut conn, None).await.unwrap();
    assert_eq!(report.broken_at, None);
}

#[tokio::test]
async fn the_inbox_lists_what_each_person_may_decide() {
    use app::ops::approvals::list;
    let w = World::new().await;
    let sam = person("sam", Role::Approver);
    let mut named = approval("named", &[], 1);
    if let NodeKind::Approval(cfg) = &mut named.kind {
        cfg.approvers.users = vec!["carol".into()];
    }
    let by_sam = w
        .start_as(
            &Actor(sam.actor.clone()),
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": 1, "vendor": "V"}),
        )
        .await;
    let other = w
        .start(
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": 2, "vendor": "V"}),
        )
        .await;
    let for_carol = w
        .start(flow(named), json!({"amount": 3, "vendor": "V"}))
        .await;
    w.idle().await;
    let runs_of = |items: Vec<ApprovalItem>| {
        let mut r: Vec<app::domain::ids::RunId> = items.into_iter().map(|i| i.run_id).collect();
        r.sort();
        r
    };
    let sorted = |mut v: Vec<app::domain::ids::RunId>| {
        v.sort();
        v
    };
    let mine = |p: Principal, all: bool| {
        let db = w.db.clone();
        async move {
            let f = ApprovalFilter {
                all,
                limit: 50,
                ..Default::default()
            };
            list(&db, &p, f, T0).await.unwrap()
        }
    };
    let ann = mine(person("ann", Role::Approver), false).await;
    assert_eq!(ann.total, 2);
    assert_eq!(
        runs_of(ann.items),
        sorted(vec![by_sam.clone(), other.clone()])
    );
    let own = mine(sam, false).await;
    assert_eq!(own.total, 1);
    assert_eq!(
        runs_of(own.items),
        vec![other.clone()],
        "not the run sam started"
    );
    let carol = mine(person("carol", Role::Approver), false).await;
    assert_eq!(runs_of(carol.items), sorted(vec![by_sam, other, for_carol]));
    let viewer = mine(person("vic", Role::Viewer), false).await;
    assert_eq!((viewer.items.len(), viewer.total), (0, 0));
    let all = mine(person("vic", Role::Viewer), true).await;
    assert_eq!((all.items.len(), all.total), (3, 3));
}

/// The inbox filters, counts and pages in SQL, so that with thousands of
/// items waiting a filter still finds every match and the badge is right.
#[tokio::test]
async fn the_inbox_filters_counts_and_pages_on_the_server() {
    use app::ops::approvals::list;
    let w = World::new().await;
    let ann = person("ann", Role::Approver);
    for n in 0..7 {
        w.start(
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": n, "vendor": "V"}),
        )
        .await;
    }
    let mut timed = approval("named_check", &["approver"], 1);
    timed.name = "Named Check".into();
    if let NodeKind::Approval(cfg) = &mut timed.kind {
        cfg.deadline = Some(Deadline {
            after_ms: 60_000,
            action: DeadlineAction::Reject,
        });
    }
    for n in 0..2 {
        w.start(flow(timed.clone()), json!({"amount": n, "vendor": "V"}))
            .await;
    }
    w.idle().await;
    let ask = |f: ApprovalFilter, now: i64| {
        let (db, ann) = (w.db.clone(), ann.clone());
        async move { list(&db, &ann, f, now).await }
    };
    let page = |limit: i64, offset: i64| ApprovalFilter {
        limit,
        offset,
        ..Default::default()
    };
    // the total alone (the nav badge)
    let count = ask(page(0, 0), T0).await.unwrap();
    assert_eq!((count.items.len(), count.total), (0, 9));
    // pages of 4 visit every item once, in the same order as one page of 9
    let mut seen = vec![];
    for offset in [0, 4, 8] {
        let p = ask(page(4, offset), T0).await.unwrap();
        assert_eq!(p.total, 9);
        seen.extend(p.items.into_iter().map(|i| i.id));
    }
    let whole: Vec<String> = ask(page(9, 0), T0)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.id.to_string())
        .collect();
    assert_eq!(seen, whole);
    // the items with a deadline come first (most urgent)
    let first = ask(page(2, 0), T0).await.unwrap();
    assert!(first.items.iter().all(|i| i.node_id == "named_check"));
    // by step (part of the name, any case), workflow, reason, overdue
    let by = |f: ApprovalFilter| ApprovalFilter { limit: 50, ..f };
    let step = ask(
        by(ApprovalFilter {
            step: Some("ED CH".into()),
            ..Default::default()
        }),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(step.total, 2);
    let wf_name = step.items[0].workflow_name.to_uppercase();
    let wf = ask(
        by(ApprovalFilter {
            workflow: Some(wf_name),
            ..Default::default()
        }),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(
        (wf.total, wf.items[0].id.clone()),
        (1, step.items[0].id.clone())
    );
    let gates = ask(
        by(ApprovalFilter {
            reason: Some("confidence".into()),
            ..Default::default()
        }),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(gates.total, 0);
    let steps = ask(
        by(ApprovalFilter {
            reason: Some("approval".into()),
            ..Default::default()
        }),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(steps.total, 9);
    let overdue = |now| {
        ask(
            by(ApprovalFilter {
                overdue: true,
                ..Default::default()
            }),
            now,
        )
    };
    assert_eq!(overdue(T0 + 59_000).await.unwrap().total, 0);
    assert_eq!(overdue(T0 + 61_000).await.unwrap().total, 2);
    // every filter at once, with the approver's own conditions after them:
    // each condition's arguments keep their place
    let all = ask(
        by(ApprovalFilter {
            step: Some("named".into()),
            workflow: Some(wf.items[0].workflow_name.clone()),
            reason: Some("approval".into()),
            overdue: true,
            ..Default::default()
        }),
        T0 + 61_000,
    )
    .await
    .unwrap();
    assert_eq!(
        (all.total, all.items.len(), all.items[0].id.clone()),
        (1, 1, step.items[0].id.clone())
    );
    // text that would mean something to SQL is only text
    let odd = ask(
        by(ApprovalFilter {
            workflow: Some("%' OR 1=1 --".into()),
            ..Default::default()
        }),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(odd.total, 0);
    // wrong values say what is accepted
    for (f, says) in [
        (
            ApprovalFilter {
                reason: Some("gut".into()),
                ..page(5, 0)
            },
            "reason 'gut' is not one of approval, confidence",
        ),
        (
            ApprovalFilter {
                status: "done".into(),
                ..page(5, 0)
            },
            "status 'done' is not one of pending, approved, rejected, cancelled, decided",
        ),
        (page(501, 0), "limit 501 is outside 0 to 500"),
        (page(5, -1), "offset -1 is negative"),
    ] {
        let e = ask(f, T0).await.unwrap_err();
        assert_eq!(e.message, says);
    }
    // history: decided items, newest decision first
    let pending = ask(page(9, 0), T0).await.unwrap().items;
    for (n, item) in pending.iter().take(3).enumerate() {
        let input = app::ops::approvals::DecisionInput {
            decision: if n == 1 { "reject" } else { "approve" }.into(),
            comment: format!("#{n}"),
            output: None,
            answers: Default::default(),
        };
        decide(&w.db, &ann, &item.id, input, T0 + 1_000 * n as i64)
            .await
            .unwrap();
    }
    let history = ask(
        ApprovalFilter {
            status: "decided".into(),
            ..page(50, 0)
        },
        T0,
    )
    .await
    .unwrap();
    let comments: Vec<_> = history
        .items
        .iter()
        .map(|i| i.comment.clone().unwrap_or_default())
        .collect();
    assert_eq!(comments, ["#2", "#1", "#0"]);
    let rejected = ask(
        ApprovalFilter {
            status: "rejected".into(),
            ..page(50, 0)
        },
        T0,
    )
    .await
    .unwrap();
    assert_eq!(rejected.total, 1);
    assert_eq!(ask(page(0, 0), T0).await.unwrap().total, 6);
}

#[tokio::test]
async fn the_proposal_looks_through_branches_to_the_data() {
    let w = World::new().await;
    let d = def(
        vec![
            start(),
            transform("calc", "{amount: .input.amount}"),
            Node::new(
                "route",
                "route",
                NodeKind::Branch {
                    conditions: vec![BranchCondition {
                        label: "large".into(),
                        expression: ".steps.calc.output.amount > 10".into(),
                    }],
                },
            ),
            approval("ok", &["approver"], 1),
            end("end", None),
            end("small", None),
        ],
        vec![
            ("start", "out", "calc"),
            ("calc", "out", "route"),
            ("route", "large", "ok"),
            ("route", "default", "small"),
            ("ok", "out", "end"),
        ],
    );
    let run = w.start(d, json!({"amount": 99})).await;
    w.idle().await;
    assert_eq!(item(&w, &run, "ok").await.proposed, json!({"amount": 99}));
}

#[tokio::test]
async fn the_items_of_a_cancelled_run_leave_the_inbox_and_cannot_be_decided() {
    let w = World::new().await;
    let run = w
        .start(
            flow(approval("ok", &["approver"], 1)),
            json!({"amount": 3, "vendor": "V"}),
        )
        .await;
    w.idle().await;
    let pending = |w: &World| {
        let db = w.db.clone();
        async move {
            let mut conn = db.acquire().await.unwrap();
            let f = ApprovalFilter::default().cleaned().unwrap();
            app::store::approvals::search(&mut conn, &f, None, T0)
                .await
                .unwrap()
                .total
        }
    };
    assert_eq!(pending(&w).await, 1);
    let i = item(&w, &run, "ok").await;
    app::ops::runs::cancel(&w.db, &Actor("ann".into()), &run, T0 + 5)
        .await
        .unwrap();
    // regression: the item stayed in every inbox and approving it answered
    // 200 while nothing happened
    assert_eq!(pending(&w).await, 0, "gone from the inbox");
    let closed = item(&w, &run, "ok").await;
    assert_eq!(closed.status, ItemStatus::Cancelled, "closed as cancelled");
    let mut conn = w.db.acquire().await.unwrap();
    let f = ApprovalFilter {
        status: "cancelled".into(),
        ..Default::default()
    }
    .cleaned()
    .unwrap();
    let history = app::store::approvals::search(&mut conn, &f, None, T0)
        .await
        .unwrap();
    assert_eq!(
        history.items[0].id, closed.id,
        "listed among cancelled items"
    );
    drop(conn);
    let err = decide(
        &w.db,
        &person("bob", Role::Approver),
        &i.id,
        approve(""),
        T0 + 6,
    )
    .await
    .unwrap_err();
    assert!(
        err.message
            .contains("the run is cancelled; its approvals can no longer be decided"),
        "{}",
        err.message
    );
    assert_eq!(w.run(&run).await.run.status, RunStatus::Cancelled);
}
