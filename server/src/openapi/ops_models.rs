//! The model-connection operations of the table.

use super::table::{NOT_FOUND, Op, empty, json, s};
use crate::rest_models::ConnectionList;
use app::domain::llm::ModelConnection;
use axum::routing::{delete, get, put};

pub fn model_connections() -> Vec<Op> {
    let m = "model connections";
    vec![
        Op::new(
            "get",
            "/api/v1/model-connections",
            m,
            "List the model connections LLM steps may name",
            || get(crate::rest_models::list),
        )
        .needs(Some("edit_workflows"))
        .answers(vec![json(200, "the connections", s::<ConnectionList>)]),
        Op::new(
            "put",
            "/api/v1/model-connections/{name}",
            m,
            "Create or replace a model connection",
            || put(crate::rest_models::put),
        )
        .needs(Some("administer"))
        .body(s::<ModelConnection>)
        .answers(vec![json(
            200,
            "the connection as saved",
            s::<ModelConnection>,
        )])
        .errors(&[(
            400,
            "what is wrong: a field, or an API key secret that does not exist",
        )]),
        Op::new(
            "delete",
            "/api/v1/model-connections/{name}",
            m,
            "Delete a model connection (steps naming it then fail saying so)",
            || delete(crate::rest_models::remove),
        )
        .needs(Some("administer"))
        .answers(vec![empty(204, "deleted")])
        .errors(&[NOT_FOUND]),
    ]
}
