//! Every HTTP operation of the API, once: its route (the router is built
//! from this table, so nothing is served that is not described) and what
//! the OpenAPI document says of it, from the handlers' own types.

use crate::hooks::respond::{HookAnswer, TestAnswer};
use crate::rest::{CreateBody, PublishBody, SaveBody, WorkflowList};
use crate::rest_approvals::{ApprovalDetail, ApprovalList, ExportQuery};
use crate::rest_audit::{AuditList, AuditQuery};
use crate::rest_runs::{GetRunQuery, RerunBody, RetryBody, RunsQuery, StartBody, StartedRun};
use crate::rest_triggers::{ListenQuery, TriggerList};
use crate::routes::AppState;
use app::domain::approvals::{ApprovalFilter, ApprovalItem};
use app::domain::records::{AttemptRecord, RunDetail, RunPage, VersionInfo, WorkflowVersion};
use app::domain::triggers::TriggerInput;
use app::domain::triggers::view::{TestEvent, TriggerView, WithSecret};
use axum::routing::{MethodRouter, delete, get, post, put};
use schemars::{JsonSchema, Schema, SchemaGenerator};

pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// One answer an operation gives.
pub struct Answer {
    pub status: u16,
    pub description: &'static str,
    /// `application/json` with this schema; None: no body, or `media`.
    pub schema: Option<SchemaFn>,
    /// Another media type (with a plain text body).
    pub media: Option<&'static str>,
}

const fn json(status: u16, description: &'static str, schema: SchemaFn) -> Answer {
    Answer {
        status,
        description,
        schema: Some(schema),
        media: None,
    }
}

const fn empty(status: u16, description: &'static str) -> Answer {
    Answer {
        status,
        description,
        schema: None,
        media: None,
    }
}

const fn text(status: u16, description: &'static str, media: &'static str) -> Answer {
    Answer {
        status,
        description,
        schema: None,
        media: Some(media),
    }
}

pub struct Op {
    pub method: &'static str,
    /// As OpenAPI writes it (`/api/v1/runs/{id}`).
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// The role permission it needs (none: public, or its own secret).
    pub needs: Option<&'static str>,
    pub query: Option<SchemaFn>,
    pub body: Option<SchemaFn>,
    /// Whether the body may be left out.
    pub body_optional: bool,
    pub answers: Vec<Answer>,
    /// Error statuses besides 401/403 (and why).
    pub errors: &'static [(u16, &'static str)],
    pub route: fn() -> MethodRouter<AppState>,
}

impl Op {
    fn new(
        method: &'static str,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        route: fn() -> MethodRouter<AppState>,
    ) -> Op {
        Op {
            method,
            path,
            tag,
            summary,
            needs: Some("read"),
            query: None,
            body: None,
            body_optional: false,
            answers: Vec::new(),
            errors: &[],
            route,
        }
    }
    fn needs(mut self, p: Option<&'static str>) -> Op {
        self.needs = p;
        self
    }
    fn query(mut self, q: SchemaFn) -> Op {
        self.query = Some(q);
        self
    }
    fn body(mut self, b: SchemaFn) -> Op {
        self.body = Some(b);
        self
    }
    fn optional_body(mut self, b: SchemaFn) -> Op {
        self.body = Some(b);
        self.body_optional = true;
        self
    }
    fn answers(mut self, a: Vec<Answer>) -> Op {
        self.answers = a;
        self
    }
    fn errors(mut self, e: &'static [(u16, &'static str)]) -> Op {
        self.errors = e;
        self
    }
}

const NOT_FOUND: (u16, &str) = (404, "no such workflow, run, item or trigger");

/// Every operation, in the order the reference lists them.
pub fn operations() -> Vec<Op> {
    let w = "workflows";
    let r = "runs";
    let a = "approvals";
    let t = "triggers";
    vec![
        Op::new("get", "/api/v1/workflows", w, "List the workflows", || {
            get(crate::rest::list_workflows)
        })
        .answers(vec![json(200, "the live workflows", s::<WorkflowList>)]),
        Op::new(
            "post",
            "/api/v1/workflows",
            w,
            "Create a workflow (its version 1)",
            || post(crate::rest::create_workflow),
        )
        .needs(Some("edit_workflows"))
        .body(s::<CreateBody>)
        .answers(vec![json(
            201,
            "created; Location names it",
            s::<WorkflowVersion>,
        )])
        .errors(&[
            (400, "malformed JSON or the wrong shape"),
            (409, "the name is taken"),
            (413, "over the body limit"),
            (415, "not JSON"),
            (422, "the definition has problems (listed)"),
        ]),
        Op::new(
            "get",
            "/api/v1/workflows/{id}",
            w,
            "The latest version, with its problems",
            || get(crate::rest::get_workflow),
        )
        .answers(vec![json(200, "the latest version", s::<WorkflowVersion>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "put",
            "/api/v1/workflows/{id}",
            w,
            "Save a new version",
            || put(crate::rest::save_workflow),
        )
        .needs(Some("edit_workflows"))
        .body(s::<SaveBody>)
        .answers(vec![json(200, "the new version", s::<WorkflowVersion>)])
        .errors(&[
            (400, "malformed JSON or the wrong shape"),
            NOT_FOUND,
            (413, "over the body limit"),
            (415, "not JSON"),
            (422, "the definition has problems (listed)"),
        ]),
        Op::new(
            "delete",
            "/api/v1/workflows/{id}",
            w,
            "Delete a workflow (its versions and runs stay)",
            || delete(crate::rest::delete_workflow),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![empty(204, "deleted")])
        .errors(&[NOT_FOUND]),
        Op::new(
            "get",
            "/api/v1/workflows/{id}/versions",
            w,
            "Every version, newest first",
            || get(crate::rest::list_versions),
        )
        .answers(vec![json(200, "the versions", s::<Vec<VersionInfo>>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "get",
            "/api/v1/workflows/{id}/versions/{version}",
            w,
            "One version",
            || get(crate::rest::get_version),
        )
        .answers(vec![json(200, "the version", s::<WorkflowVersion>)])
        .errors(&[(400, "not a version number"), NOT_FOUND]),
        Op::new(
            "put",
            "/api/v1/workflows/{id}/published",
            w,
            "Publish a version: what triggers and starts without a version run",
            || put(crate::rest::publish),
        )
        .needs(Some("edit_workflows"))
        .body(s::<PublishBody>)
        .answers(vec![json(
            200,
            "the version, now published",
            s::<WorkflowVersion>,
        )])
        .errors(&[
            (400, "not a saved version"),
            NOT_FOUND,
            (422, "the version has problems"),
        ]),
        Op::new(
            "delete",
            "/api/v1/workflows/{id}/published",
            w,
            "Publish no version",
            || delete(crate::rest::unpublish),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![empty(204, "no version is published")])
        .errors(&[NOT_FOUND, (409, "nothing is published")]),
        Op::new(
            "post",
            "/api/v1/workflows/{id}/runs",
            r,
            "Start a run (without a version: the published one, else the latest)",
            || post(crate::rest_runs::start_run),
        )
        .needs(Some("operate_runs"))
        .body(s::<StartBody>)
        .answers(vec![json(202, "started", s::<StartedRun>)])
        .errors(&[
            (400, "malformed JSON or the wrong shape"),
            NOT_FOUND,
            (
                422,
                "the version has problems, or the input does not match the Start schema",
            ),
        ]),
        Op::new(
            "get",
            "/api/v1/runs",
            r,
            "A page of runs, newest first, with counts per status",
            || get(crate::rest_runs::list),
        )
        .query(s::<RunsQuery>)
        .answers(vec![json(200, "the page", s::<RunPage>)])
        .errors(&[(400, "a query parameter is wrong (named)")]),
        Op::new(
            "get",
            "/api/v1/runs/{id}",
            r,
            "A run with its steps (wait_ms: until it ends)",
            || get(crate::rest_runs::get_run),
        )
        .query(s::<GetRunQuery>)
        .answers(vec![json(200, "the run", s::<RunDetail>)])
        .errors(&[(400, "a query parameter is wrong"), NOT_FOUND]),
        Op::new(
            "get",
            "/api/v1/runs/{id}/attempts",
            r,
            "The step log: every attempt",
            || get(crate::rest_runs::get_attempts),
        )
        .answers(vec![json(200, "the attempts", s::<Vec<AttemptRecord>>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/runs/{id}/cancel",
            r,
            "Cancel a running run",
            || post(crate::rest_runs::cancel_run),
        )
        .needs(Some("operate_runs"))
        .answers(vec![empty(204, "cancelled")])
        .errors(&[NOT_FOUND, (409, "not running")]),
        Op::new(
            "post",
            "/api/v1/runs/{id}/rerun",
            r,
            "Start a new run with the same input",
            || post(crate::rest_runs::rerun),
        )
        .needs(Some("operate_runs"))
        .optional_body(s::<RerunBody>)
        .answers(vec![json(202, "started", s::<StartedRun>)])
        .errors(&[
            (400, "malformed JSON"),
            NOT_FOUND,
            (422, "the version has problems"),
        ]),
        Op::new(
            "post",
            "/api/v1/runs/{id}/steps/{node_id}/retry",
            r,
            "Retry the step whose failure ended the run",
            || post(crate::rest_runs::retry_step),
        )
        .needs(Some("operate_runs"))
        .optional_body(s::<RetryBody>)
        .answers(vec![empty(202, "the run goes on")])
        .errors(&[
            (400, "malformed JSON"),
            NOT_FOUND,
            (409, "nothing to retry there (why)"),
            (422, "the latest version has problems"),
        ]),
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
