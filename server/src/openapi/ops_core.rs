//! The workflow and run operations of the table.

use super::table::{NOT_FOUND, Op, empty, json, s};
use crate::rest::{CreateBody, PublishBody, SaveBody, WorkflowList};
use crate::rest_runs::{
    GetRunQuery, RerunBody, RetryBody, RunsQuery, StartBody, StartQuery, StartedRun,
};
use app::domain::records::{AttemptRecord, RunDetail, RunPage, VersionInfo, WorkflowVersion};
use axum::routing::{delete, get, post, put};

pub fn workflows_and_runs() -> Vec<Op> {
    let w = "workflows";
    let r = "runs";
    vec![
        Op::new(
            "get",
            "/api/v1/workflows",
            w,
            "A page of the workflows (100 unless limit says; next_offset when there are more)",
            || get(crate::rest::list_workflows),
        )
        .query(s::<crate::rest::PageQuery>)
        .answers(vec![json(200, "the live workflows", s::<WorkflowList>)])
        .errors(&[(400, "a query parameter is wrong")]),
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
            "A page of the versions, newest first (100 unless limit says)",
            || get(crate::rest::list_versions),
        )
        .query(s::<crate::rest::PageQuery>)
        .answers(vec![json(200, "the versions", s::<Vec<VersionInfo>>)])
        .errors(&[(400, "a query parameter is wrong"), NOT_FOUND]),
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
            (
                409,
                "the golden-set gate refuses it (the failed cases named)",
            ),
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
        .query(s::<StartQuery>)
        .body(s::<StartBody>)
        .headers(&[(
            "Idempotency-Key",
            "up to 255 visible ASCII characters; a repeat of the request with the same key returns the first run (200, Idempotent-Replayed: true) instead of starting another",
        )])
        .answers(vec![
            json(202, "started", s::<StartedRun>),
            json(200, "a repeat of an Idempotency-Key: the run it started", s::<StartedRun>),
            json(200, "with wait_ms: the run, once it ended (or when wait_ms passed)", s::<RunDetail>),
        ])
        .errors(&[
            (400, "malformed JSON or the wrong shape, or a bad Idempotency-Key"),
            NOT_FOUND,
            (409, "the Idempotency-Key already started a run with another input"),
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
            "A page of the step log, oldest attempt first (200 unless limit says)",
            || get(crate::rest_runs::get_attempts),
        )
        .query(s::<crate::rest::PageQuery>)
        .answers(vec![json(200, "the attempts", s::<Vec<AttemptRecord>>)])
        .errors(&[(400, "a query parameter is wrong"), NOT_FOUND]),
        Op::new(
            "get",
            "/api/v1/runs/{id}/steps/{node_id}/items",
            r,
            "A page of a For each step's items: each item's run, status and output, in list order",
            || get(crate::rest_runs::get_items),
        )
        .query(s::<crate::rest_runs::ItemsQuery>)
        .answers(vec![json(
            200,
            "the items",
            s::<Vec<app::domain::records::ItemRun>>,
        )])
        .errors(&[(400, "from or limit out of range"), NOT_FOUND]),
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
    ]
}
