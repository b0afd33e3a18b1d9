//! The approval, audit, trigger, webhook and meta operations of the table.

use super::table::{NOT_FOUND, Op, empty, json, s, text};
use crate::hooks::respond::{HookAnswer, TestAnswer};
use crate::rest_approvals::{ApprovalDetail, ApprovalList, ExportQuery};
use crate::rest_audit::{AuditList, AuditQuery};
use crate::rest_triggers::{ListenQuery, TriggerList};
use app::domain::approvals::{ApprovalFilter, ApprovalItem};
use app::domain::triggers::TriggerInput;
use app::domain::triggers::view::{TestEvent, TriggerView, WithSecret};
use axum::routing::{delete, get, post, put};

pub fn approvals_audit_triggers() -> Vec<Op> {
    let a = "approvals";
    let t = "triggers";
    vec![
        Op::new("get", "/api/v1/approvals", a, "The caller's inbox", || {
            get(crate::rest_approvals::list)
        })
        .query(s::<ApprovalFilter>)
        .answers(vec![json(200, "a page of items", s::<ApprovalList>)])
        .errors(&[(400, "a query parameter is wrong")]),
        Op::new(
            "get",
            "/api/v1/approvals/export",
            a,
            "Decisions as labelled examples (JSON lines)",
            || get(crate::rest_approvals::export),
        )
        .query(s::<ExportQuery>)
        .answers(vec![text(
            200,
            "one decision per line",
            "application/x-ndjson",
        )])
        .errors(&[(400, "a query parameter is wrong"), NOT_FOUND]),
        Op::new(
            "get",
            "/api/v1/approvals/{id}",
            a,
            "An item with its decisions",
            || get(crate::rest_approvals::get),
        )
        .answers(vec![json(200, "the item", s::<ApprovalDetail>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/approvals/{id}/decision",
            a,
            "Approve or reject an item",
            || post(crate::rest_approvals::decide),
        )
        .needs(Some("decide_approvals"))
        .body(s::<app::ops::approvals::DecisionInput>)
        .answers(vec![json(
            200,
            "the item after the decision",
            s::<ApprovalItem>,
        )])
        .errors(&[
            (400, "malformed JSON or the wrong shape"),
            NOT_FOUND,
            (409, "decided already, or the run ended"),
            (422, "the form's values are wrong (named)"),
        ]),
        Op::new(
            "get",
            "/api/v1/audit",
            "audit",
            "The audit trail, filtered (JSON: newest 200; CSV and JSON lines: all)",
            || get(crate::rest_audit::list),
        )
        .query(s::<AuditQuery>)
        .answers(vec![
            json(200, "format=json", s::<AuditList>),
            text(200, "format=csv", "text/csv"),
            text(200, "format=jsonl", "application/x-ndjson"),
        ])
        .errors(&[(400, "a query parameter is wrong")]),
        Op::new(
            "get",
            "/api/v1/workflows/{id}/triggers",
            t,
            "A workflow's webhooks and schedules",
            || get(crate::rest_triggers::list),
        )
        .answers(vec![json(200, "the triggers", s::<TriggerList>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/workflows/{id}/triggers",
            t,
            "Add a webhook or schedule (a webhook's key is in this answer only)",
            || post(crate::rest_triggers::create),
        )
        .needs(Some("edit_workflows"))
        .body(s::<TriggerInput>)
        .answers(vec![json(201, "added", s::<WithSecret>)])
        .errors(&[
            (400, "malformed JSON"),
            NOT_FOUND,
            (409, "the path is taken"),
            (422, "what is wrong, with the field"),
        ]),
        Op::new(
            "get",
            "/api/v1/triggers/{id}",
            t,
            "A trigger, its next fires and recent events",
            || get(crate::rest_triggers::get_one),
        )
        .answers(vec![json(200, "the trigger", s::<TriggerView>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "put",
            "/api/v1/triggers/{id}",
            t,
            "Change a trigger (not its kind)",
            || put(crate::rest_triggers::update),
        )
        .needs(Some("edit_workflows"))
        .body(s::<TriggerInput>)
        .answers(vec![json(200, "the trigger", s::<TriggerView>)])
        .errors(&[
            (400, "malformed JSON"),
            NOT_FOUND,
            (409, "the path is taken"),
            (422, "what is wrong, with the field"),
        ]),
        Op::new(
            "delete",
            "/api/v1/triggers/{id}",
            t,
            "Delete a trigger",
            || delete(crate::rest_triggers::remove),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![empty(204, "deleted")])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/triggers/{id}/pause",
            t,
            "Pause a trigger",
            || post(crate::rest_triggers::pause),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![json(200, "the trigger", s::<TriggerView>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/triggers/{id}/resume",
            t,
            "Resume a trigger (a schedule counts from now)",
            || post(crate::rest_triggers::resume),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![json(200, "the trigger", s::<TriggerView>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/triggers/{id}/keys",
            t,
            "A new webhook key (the old one stays accepted)",
            || post(crate::rest_triggers::rotate),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![json(
            200,
            "the new key, shown only here",
            s::<WithSecret>,
        )])
        .errors(&[(400, "not a webhook"), NOT_FOUND]),
        Op::new(
            "delete",
            "/api/v1/triggers/{id}/keys/previous",
            t,
            "Stop accepting the previous key",
            || delete(crate::rest_triggers::retire),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![json(200, "the trigger", s::<TriggerView>)])
        .errors(&[NOT_FOUND, (409, "no rotation under way")]),
        Op::new(
            "post",
            "/api/v1/triggers/{id}/test-event",
            t,
            "Wait for the next delivery as a test event (no run starts)",
            || post(crate::rest_triggers::listen),
        )
        .needs(Some("edit_workflows"))
        .query(s::<ListenQuery>)
        .answers(vec![
            json(200, "the delivery", s::<TestEvent>),
            empty(204, "none came in time"),
        ])
        .errors(&[(400, "not a webhook"), NOT_FOUND]),
        Op::new(
            "get",
            "/api/v1/openapi.json",
            "meta",
            "This document",
            || get(super::document),
        )
        .needs(None)
        .answers(vec![json(200, "OpenAPI 3.1", s::<serde_json::Value>)]),
        Op::new(
            "post",
            "/hooks/{path}",
            t,
            "Deliver to a webhook (its id or chosen path; authenticated by its own key)",
            || post(crate::hooks::deliver),
        )
        .needs(None)
        .optional_body(s::<serde_json::Value>)
        .answers(vec![
            json(
                202,
                "a run started (or a synchronous run is still going, or waits for a person)",
                s::<HookAnswer>,
            ),
            json(
                200,
                "a synchronous run ended, or a duplicate delivery (its first run)",
                s::<HookAnswer>,
            ),
            json(200, "taken as a test event: no run", s::<TestAnswer>),
        ])
        .errors(&[
            (400, "not JSON"),
            (
                401,
                "missing or wrong signature or token, or outside the 5-minute window",
            ),
            (404, "no webhook there"),
            (409, "no published version"),
            (413, "over the body limit"),
            (
                422,
                "the mapping failed or the input does not match the Start schema",
            ),
            (503, "the webhook is paused"),
        ]),
    ]
}
