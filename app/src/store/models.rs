//! Model connections, stored whole as JSON under their name.

use super::{Result, StoreError};
use crate::domain::llm::ModelConnection;

pub async fn put(
    conn: &mut crate::store::conn::Conn,
    c: &ModelConnection,
    actor: &str,
    now: i64,
) -> Result<()> {
    let config = serde_json::to_string(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    crate::store::conn::query(
        "INSERT INTO model_connections (name, config, updated_at, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET config = $2, updated_at = $3, updated_by = $4",
    )
    .bind(&c.name)
    .bind(config)
    .bind(now)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut crate::store::conn::Conn, name: &str) -> Result<()> {
    let done = crate::store::conn::query("DELETE FROM model_connections WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    crate::store::found(done.rows_affected())
}

fn parse(config: &str) -> Result<ModelConnection> {
    serde_json::from_str(config).map_err(|e| StoreError::Corrupt(format!("model connection: {e}")))
}

pub async fn list(conn: &mut crate::store::conn::Conn) -> Result<Vec<ModelConnection>> {
    let rows: Vec<(String,)> =
        crate::store::conn::query_as("SELECT config FROM model_connections ORDER BY name")
            .fetch_all(conn)
            .await?;
    rows.iter().map(|(c,)| parse(c)).collect()
}

pub async fn get(
    conn: &mut crate::store::conn::Conn,
    name: &str,
) -> Result<Option<ModelConnection>> {
    let row: Option<(String,)> =
        crate::store::conn::query_as("SELECT config FROM model_connections WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await?;
    row.map(|(c,)| parse(&c)).transpose()
}
