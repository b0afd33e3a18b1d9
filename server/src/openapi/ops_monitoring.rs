//! The monitoring and alert-rule operations of the table.

use super::table::{NOT_FOUND, Op, empty, json, s};
use crate::rest_monitoring::{MonitoringQuery, RuleList};
use app::domain::monitoring::alerts::{AlertRule, RuleSpec};
use app::ops::monitoring::Monitoring;
use axum::routing::{delete, get, post, put};

pub fn monitoring() -> Vec<Op> {
    let g = "monitoring";
    vec![
        Op::new(
            "get",
            "/api/v1/workflows/{id}/monitoring",
            g,
            "A workflow's (or one step's) figures over a range: runs and outcomes, failure rate, p50/p95 duration, escalations, decisions, confidence drift (PSI), and its alert rules",
            || get(crate::rest_monitoring::figures),
        )
        .query(s::<MonitoringQuery>)
        .answers(vec![json(200, "the figures", s::<Monitoring>)])
        .errors(&[
            (400, "a range that ends before it starts, is longer than 366 days, or hourly over 31 days"),
            NOT_FOUND,
        ]),
        Op::new(
            "get",
            "/api/v1/workflows/{id}/alert-rules",
            g,
            "A workflow's alert rules and whether each is firing",
            || get(crate::rest_monitoring::list_rules),
        )
        .answers(vec![json(200, "the rules, oldest first", s::<RuleList>)])
        .errors(&[NOT_FOUND]),
        Op::new(
            "post",
            "/api/v1/workflows/{id}/alert-rules",
            g,
            "Add an alert rule (escalation rate, failure rate, drift or oldest waiting item over a window), told to a Slack-compatible webhook when it starts and stops",
            || post(crate::rest_monitoring::create_rule),
        )
        .needs(Some("edit_workflows"))
        .body(s::<RuleSpec>)
        .answers(vec![json(201, "the rule", s::<AlertRule>)])
        .errors(&[
            (400, "malformed JSON or an unknown field"),
            NOT_FOUND,
            (409, "the workflow has 50 rules already"),
            (422, "a value out of range (the field is named)"),
        ]),
        Op::new(
            "delete",
            "/api/v1/alert-rules/{id}",
            g,
            "Remove an alert rule",
            || delete(crate::rest_monitoring::delete_rule),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![empty(204, "removed")])
        .errors(&[NOT_FOUND]),
        Op::new(
            "put",
            "/api/v1/workflows/{id}/retention",
            "workflows",
            "How many days the workflow's finished runs are kept (null: the instance default); older ones are deleted in small batches, the audit trail never",
            || put(crate::rest_lifecycle::set_retention),
        )
        .needs(Some("administer"))
        .body(s::<crate::rest_lifecycle::RetentionBody>)
        .answers(vec![json(200, "the retention", s::<crate::rest_lifecycle::RetentionBody>)])
        .errors(&[NOT_FOUND, (400, "days out of range")]),
    ]
}
