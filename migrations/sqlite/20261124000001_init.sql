-- Workflows and their immutable versions, the audit trail, and instance metadata.
-- Times are Unix milliseconds (UTC).

CREATE TABLE workflows (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    latest_version INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    updated_by     TEXT NOT NULL,
    deleted_at     INTEGER,
    deleted_by     TEXT
);

-- Names are unique among live workflows; a deleted one frees its name.
CREATE UNIQUE INDEX workflows_live_name ON workflows (name) WHERE deleted_at IS NULL;
CREATE INDEX workflows_updated ON workflows (updated_at DESC);

CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,            -- WorkflowDef as JSON
    problems    INTEGER NOT NULL,          -- validation problems at save time (0 = runnable)
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (workflow_id, version)
) WITHOUT ROWID;

CREATE TRIGGER workflow_versions_no_update BEFORE UPDATE ON workflow_versions
BEGIN
    SELECT RAISE(ABORT, 'workflow versions are immutable');
END;
CREATE TRIGGER workflow_versions_no_delete BEFORE DELETE ON workflow_versions
BEGIN
    SELECT RAISE(ABORT, 'workflow versions are immutable');
END;

-- Append-only, hash-chained audit trail (see DESIGN.md "Audit trail").
CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    run_id    TEXT,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_events_entity ON audit_events (entity, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TABLE instance_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
