//! The golden-set operations of the table.

use super::table::{NOT_FOUND, Op, empty, json, s};
use crate::rest_golden::{CaseList, FromRunBody, GateBody, SuiteBody};
use app::domain::golden::{CaseSpec, TestCase};
use app::ops::golden::{SuiteReport, SuiteStarted};
use axum::routing::{delete, get, post, put};

const BAD_CASE: (u16, &str) = (422, "the case is not valid (the field is named)");

pub fn golden_sets() -> Vec<Op> {
    let g = "golden sets";
    vec![
        Op::new(
            "get",
            "/api/v1/workflows/{id}/test-cases",
            g,
            "A workflow's test cases",
            || get(crate::rest_golden::list_cases),
        )
        .answers(vec![json(200, "the cases, oldest first", s::<CaseList>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/workflows/{id}/test-cases",
            g,
            "Add a test case",
            || post(crate::rest_golden::create_case),
        )
        .needs(Some("edit_workflows"))
        .body(s::<CaseSpec>)
        .answers(vec![json(201, "the case", s::<TestCase>)])
        .errors(&[
            (400, "malformed JSON or an unknown field"),
            NOT_FOUND,
            BAD_CASE,
        ]),
        Op::new(
            "put",
            "/api/v1/test-cases/{id}",
            g,
            "Change a test case",
            || put(crate::rest_golden::update_case),
        )
        .needs(Some("edit_workflows"))
        .body(s::<CaseSpec>)
        .answers(vec![json(200, "the case", s::<TestCase>)])
        .errors(&[
            (400, "malformed JSON or an unknown field"),
            NOT_FOUND,
            BAD_CASE,
        ]),
        Op::new(
            "delete",
            "/api/v1/test-cases/{id}",
            g,
            "Remove a test case",
            || delete(crate::rest_golden::delete_case),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![empty(204, "removed")])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/runs/{id}/test-case",
            g,
            "Save an ended run as a test case (input, output, routes, recorded answers, decisions)",
            || post(crate::rest_golden::case_from_run),
        )
        .needs(Some("edit_workflows"))
        .body(s::<FromRunBody>)
        .answers(vec![json(201, "the case", s::<TestCase>)])
        .errors(&[NOT_FOUND, (409, "the run has not ended"), BAD_CASE]),
        Op::new(
            "post",
            "/api/v1/approvals/{id}/test-case",
            g,
            "Save a decided item as a test case (the decision becomes what must hold)",
            || post(crate::rest_golden::case_from_item),
        )
        .needs(Some("edit_workflows"))
        .body(s::<FromRunBody>)
        .answers(vec![json(201, "the case", s::<TestCase>)])
        .errors(&[NOT_FOUND, (409, "the item is not decided yet"), BAD_CASE]),
        Op::new(
            "post",
            "/api/v1/workflows/{id}/test-suites",
            g,
            "Run a version against every test case",
            || post(crate::rest_golden::run_suite),
        )
        .needs(Some("edit_workflows"))
        .body(s::<SuiteBody>)
        .answers(vec![json(
            202,
            "started; read its report",
            s::<SuiteStarted>,
        )])
        .errors(&[(400, "the workflow has no test cases"), NOT_FOUND]),
        Op::new(
            "get",
            "/api/v1/test-suites/{id}",
            g,
            "How a golden-set run did: each case, its failures and diffs, and the totals",
            || get(crate::rest_golden::suite_report),
        )
        .answers(vec![json(200, "the report", s::<SuiteReport>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "put",
            "/api/v1/workflows/{id}/publish-gate",
            g,
            "Require the golden set to pass before publishing (or not)",
            || put(crate::rest_golden::set_gate),
        )
        .needs(Some("edit_workflows"))
        .body(s::<GateBody>)
        .answers(vec![json(200, "the gate", s::<GateBody>)])
        .errors(&[NOT_FOUND, (422, "not a share from above 0 to 100")]),
    ]
}
