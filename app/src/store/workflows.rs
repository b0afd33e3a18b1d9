//! Workflows and their immutable versions.

use super::{Result, StoreError};
use crate::domain::WorkflowDef;
use crate::domain::records::{VersionInfo, WorkflowSummary, WorkflowVersion};

pub const NAME_TAKEN: &str = "a workflow with this name already exists; choose another name";

/// Inserts a workflow with its first version.
pub async fn insert(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    name: &str,
    def: &WorkflowDef,
    problems: usize,
    actor: &str,
    now: i64,
) -> Result<()> {
    crate::store::conn::query(
        "INSERT INTO workflows (id, name, latest_version, created_at, created_by, updated_at, updated_by)
         VALUES ($1, $2, 1, $3, $4, $3, $4)",
    )
    .bind(id)
    .bind(name)
    .bind(now)
    .bind(actor)
    .execute(&mut *conn)
    .await
    .map_err(|e| StoreError::from(e).unique_as(NAME_TAKEN))?;
    insert_version(conn, id, 1, def, problems, actor, now).await
}

async fn insert_version(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    version: i64,
    def: &WorkflowDef,
    problems: usize,
    actor: &str,
    now: i64,
) -> Result<()> {
    let json = serde_json::to_string(def).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    crate::store::conn::query(
        "INSERT INTO workflow_versions (workflow_id, version, definition, problems, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(version)
    .bind(json)
    .bind(problems as i64)
    .bind(now)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps an unsaved working copy that a test run runs, as a version
/// counting down from −1 (saved versions count up from 1, so neither the
/// version list nor "latest" shows a snapshot, and the engine loads it by
/// its number like any version). Returns its number.
pub async fn insert_snapshot(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    def: &WorkflowDef,
    actor: &str,
    now: i64,
) -> Result<i64> {
    let live: Option<i64> = crate::store::conn::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM workflows WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    live.ok_or(StoreError::NotFound)?;
    let version: i64 = crate::store::conn::query_scalar(
        "SELECT CASE WHEN MIN(version) < 0 THEN MIN(version) ELSE 0 END - 1 FROM workflow_versions WHERE workflow_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    insert_version(conn, id, version, def, 0, actor, now).await?;
    Ok(version)
}

/// Appends a new version to a live workflow and returns its number.
pub async fn add_version(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    def: &WorkflowDef,
    problems: usize,
    actor: &str,
    now: i64,
) -> Result<i64> {
    let version: Option<i64> = crate::store::conn::query_scalar(
        "UPDATE workflows SET latest_version = latest_version + 1, updated_at = $2, updated_by = $3
         WHERE id = $1 AND deleted_at IS NULL RETURNING latest_version",
    )
    .bind(id)
    .bind(now)
    .bind(actor)
    .fetch_optional(&mut *conn)
    .await?;
    let version = version.ok_or(StoreError::NotFound)?;
    insert_version(conn, id, version, def, problems, actor, now).await?;
    Ok(version)
}

pub async fn rename(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    name: &str,
    actor: &str,
    now: i64,
) -> Result<String> {
    let old: Option<String> = crate::store::conn::query_scalar(
        "SELECT name FROM workflows WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let old = old.ok_or(StoreError::NotFound)?;
    crate::store::conn::query(
        "UPDATE workflows SET name = $2, updated_at = $3, updated_by = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(now)
    .bind(actor)
    .execute(conn)
    .await
    .map_err(|e| StoreError::from(e).unique_as(NAME_TAKEN))?;
    Ok(old)
}

/// Soft delete: the workflow leaves the list, its versions stay.
pub async fn soft_delete(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    actor: &str,
    now: i64,
) -> Result<String> {
    let name: Option<String> = crate::store::conn::query_scalar(
        "UPDATE workflows SET deleted_at = $2, deleted_by = $3 WHERE id = $1 AND deleted_at IS NULL RETURNING name",
    )
    .bind(id)
    .bind(now)
    .bind(actor)
    .fetch_optional(conn)
    .await?;
    name.ok_or(StoreError::NotFound)
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    name: String,
    latest_version: i64,
    created_at: i64,
    updated_at: i64,
    updated_by: String,
    problems: i64,
    published_version: Option<i64>,
}

/// Live workflows, most recently updated first.
/// A page of the live workflows, most recently changed first.
pub async fn list(
    conn: &mut crate::store::conn::Conn,
    page: crate::domain::records::Paging,
) -> Result<Vec<WorkflowSummary>> {
    let rows: Vec<SummaryRow> = crate::store::conn::query_as(
        "SELECT w.id, w.name, w.latest_version, w.created_at, w.updated_at, w.updated_by, v.problems,
                w.published_version
         FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.latest_version
         WHERE w.deleted_at IS NULL ORDER BY w.updated_at DESC, w.name, w.id LIMIT $1 OFFSET $2",
    )
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| WorkflowSummary {
            id: r.id,
            name: r.name,
            latest_version: r.latest_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
            problems: r.problems,
            published_version: r.published_version,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    workflow_id: String,
    name: String,
    version: i64,
    latest_version: i64,
    published_version: Option<i64>,
    definition: String,
    created_at: i64,
    created_by: String,
}

/// Every version of a live workflow, newest first.
/// A page of a live workflow's versions, newest first; NotFound when there
/// is no such workflow.
pub async fn versions(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    page: crate::domain::records::Paging,
) -> Result<Vec<VersionInfo>> {
    let rows: Vec<VersionInfo> = crate::store::conn::query_as(
        "SELECT v.version, v.created_at, v.created_by, v.problems
         FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id
         WHERE w.id = $1 AND w.deleted_at IS NULL AND v.version > 0 ORDER BY v.version DESC
         LIMIT $2 OFFSET $3",
    )
    .bind(id)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        // (the id itself: `SELECT 1` is a 4-byte integer on PostgreSQL)
        let live: Option<String> = crate::store::conn::query_scalar(
            "SELECT id FROM workflows WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .fetch_optional(conn)
        .await?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
    }
    Ok(rows)
}

/// One version of a live workflow (the latest when `version` is None).
pub async fn get(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    version: impl Into<Pick>,
) -> Result<WorkflowVersion> {
    get_inner(conn, id, version.into(), false).await
}

/// A version of a workflow even if it was deleted since: runs pinned to it
/// still finish.
pub async fn get_any(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    version: i64,
) -> Result<WorkflowVersion> {
    get_inner(conn, id, Pick::Version(version), true).await
}

/// How many versions' definitions a process remembers (the ones used most
/// recently; each is read again when next needed after it was forgotten).
pub const REMEMBERED_VERSIONS: usize = 256;

/// The definition of a version (even of a deleted workflow), read once per
/// process while it is used: versions never change, and starting each item of a long For
/// each list needs its body again.
pub async fn definition(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    version: i64,
) -> Result<std::sync::Arc<WorkflowDef>> {
    if let Some(d) = remembered_definition(id, version) {
        return Ok(d);
    }
    let def = std::sync::Arc::new(get_any(conn, id, version).await?.definition);
    KNOWN_DEFINITIONS.put((id.to_string(), version), def.clone());
    Ok(def)
}

type KnownDefinitions =
    crate::store::remembered::Remembered<(String, i64), std::sync::Arc<WorkflowDef>>;

/// The definitions [`definition`] read, for the whole process.
static KNOWN_DEFINITIONS: std::sync::LazyLock<KnownDefinitions> =
    std::sync::LazyLock::new(|| KnownDefinitions::new(REMEMBERED_VERSIONS));

/// Version `version`'s definition if this process read it before (without
/// reading anything).
pub fn remembered_definition(id: &str, version: i64) -> Option<std::sync::Arc<WorkflowDef>> {
    KNOWN_DEFINITIONS.get(&(id.to_string(), version))
}

async fn get_inner(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    pick: Pick,
    include_deleted: bool,
) -> Result<WorkflowVersion> {
    let row: Option<VersionRow> = crate::store::conn::query_as(
        "SELECT v.workflow_id, w.name, v.version, w.latest_version, w.published_version, v.definition,
                v.created_at, v.created_by
         FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id
         WHERE w.id = $1 AND ($3 OR w.deleted_at IS NULL)
           AND v.version = COALESCE($2, CASE WHEN $4 THEN w.published_version END, w.latest_version)",
    )
    .bind(id)
    .bind(pick.number())
    .bind(include_deleted)
    .bind(pick == Pick::Published)
    .fetch_optional(conn)
    .await?;
    let r = row.ok_or(StoreError::NotFound)?;
    let definition = serde_json::from_str(&r.definition)
        .map_err(|e| StoreError::Corrupt(format!("workflow {id} v{}: {e}", r.version)))?;
    Ok(WorkflowVersion {
        workflow_id: r.workflow_id,
        name: r.name,
        version: r.version,
        latest_version: r.latest_version,
        published_version: r.published_version,
        definition,
        created_at: r.created_at,
        created_by: r.created_by,
        problems: Vec::new(),
    })
}

/// Makes `version` (None: no version) the published one of a live
/// workflow; returns the one published before.
pub async fn set_published(
    conn: &mut crate::store::conn::Conn,
    id: &str,
    version: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<Option<i64>> {
    let before: Option<Option<i64>> = crate::store::conn::query_scalar(
        "SELECT published_version FROM workflows WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let before = before.ok_or(StoreError::NotFound)?;
    crate::store::conn::query(
        "UPDATE workflows SET published_version = $2, published_at = $3, published_by = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(version)
    .bind(version.map(|_| now))
    .bind(version.map(|_| actor))
    .execute(conn)
    .await?;
    Ok(before)
}

/// The published version of a live workflow, if one is.
pub async fn published(conn: &mut crate::store::conn::Conn, id: &str) -> Result<Option<i64>> {
    let v: Option<Option<i64>> = crate::store::conn::query_scalar(
        "SELECT published_version FROM workflows WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    v.ok_or(StoreError::NotFound)
}

#[cfg(test)]
#[path = "workflows_tests.rs"]
mod tests;

#[path = "workflows_pick.rs"]
mod pick;
pub use pick::{Pick, still_names, version_of};
