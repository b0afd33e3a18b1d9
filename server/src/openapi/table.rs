//! Every HTTP operation of the API, once: its route (the router is built
//! from this table, so nothing is served that is not described) and what
//! the OpenAPI document says of it, from the handlers' own types.

use crate::routes::AppState;
use axum::routing::MethodRouter;
use schemars::{JsonSchema, Schema, SchemaGenerator};

pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub(super) fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
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

pub(super) const fn json(status: u16, description: &'static str, schema: SchemaFn) -> Answer {
    Answer {
        status,
        description,
        schema: Some(schema),
        media: None,
    }
}

pub(super) const fn empty(status: u16, description: &'static str) -> Answer {
    Answer {
        status,
        description,
        schema: None,
        media: None,
    }
}

pub(super) const fn text(status: u16, description: &'static str, media: &'static str) -> Answer {
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
    /// Request headers it reads (name, what for).
    pub headers: &'static [(&'static str, &'static str)],
    pub route: fn() -> MethodRouter<AppState>,
}

impl Op {
    pub(super) fn new(
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
            headers: &[],
            route,
        }
    }
    pub(super) fn needs(mut self, p: Option<&'static str>) -> Op {
        self.needs = p;
        self
    }
    pub(super) fn query(mut self, q: SchemaFn) -> Op {
        self.query = Some(q);
        self
    }
    pub(super) fn body(mut self, b: SchemaFn) -> Op {
        self.body = Some(b);
        self
    }
    pub(super) fn optional_body(mut self, b: SchemaFn) -> Op {
        self.body = Some(b);
        self.body_optional = true;
        self
    }
    pub(super) fn answers(mut self, a: Vec<Answer>) -> Op {
        self.answers = a;
        self
    }
    pub(super) fn headers(mut self, h: &'static [(&'static str, &'static str)]) -> Op {
        self.headers = h;
        self
    }
    pub(super) fn errors(mut self, e: &'static [(u16, &'static str)]) -> Op {
        self.errors = e;
        self
    }
}

pub(super) const NOT_FOUND: (u16, &str) = (404, "no such workflow, run, item or trigger");

/// Every operation, in the order the reference lists them.
/// Every operation, in the order the reference lists them.
pub fn operations() -> Vec<Op> {
    let mut all = super::ops_core::workflows_and_runs();
    all.extend(super::ops_more::approvals_audit_triggers());
    all.extend(super::ops_models::model_connections());
    all.extend(super::ops_golden::golden_sets());
    all.extend(super::ops_monitoring::monitoring());
    all
}
