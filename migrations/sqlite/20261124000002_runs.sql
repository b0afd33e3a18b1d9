-- Runs and their steps. The steps table is the work queue (DESIGN.md
-- "Execution semantics"): a worker claims a ready row whose not_before has
-- passed by setting a lease; expired leases go back to ready.

CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL,             -- running | succeeded | failed | cancelled
    input       TEXT NOT NULL,
    output      TEXT,
    error       TEXT,
    confidence  REAL,                      -- cumulative confidence of the run
    started_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER,
    deadline_at INTEGER,                   -- per-run timeout
    rerun_of    TEXT REFERENCES runs (id),
    FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
);
CREATE INDEX runs_workflow ON runs (workflow_id, created_at DESC);
CREATE INDEX runs_open_deadline ON runs (deadline_at) WHERE status = 'running' AND deadline_at IS NOT NULL;

CREATE TABLE steps (
    run_id         TEXT NOT NULL REFERENCES runs (id),
    node_id        TEXT NOT NULL,
    status         TEXT NOT NULL,          -- pending | ready | running | waiting | succeeded | failed | skipped | cancelled
    attempt        INTEGER NOT NULL DEFAULT 0,
    not_before     INTEGER NOT NULL DEFAULT 0,
    parked         INTEGER NOT NULL DEFAULT 0, -- 1 while waiting: the next claim is a wake-up
    lease_owner    TEXT,
    lease_until    INTEGER,
    port           TEXT,                   -- the port it finished through
    input_override TEXT,                   -- context given by a person on retry
    output         TEXT,
    error_class    TEXT,
    error          TEXT,
    confidence     REAL,
    cum_in         REAL NOT NULL DEFAULT 1.0,
    cum_confidence REAL,
    started_at     INTEGER,
    finished_at    INTEGER,
    finish_seq     INTEGER,                -- order of completion within the run
    PRIMARY KEY (run_id, node_id)
);
CREATE INDEX steps_claimable ON steps (not_before) WHERE status IN ('ready', 'waiting');
CREATE INDEX steps_leased ON steps (lease_until) WHERE status = 'running';

-- One row per attempt: the step log.
CREATE TABLE step_attempts (
    run_id      TEXT NOT NULL,
    node_id     TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    input       TEXT,
    output      TEXT,
    outcome     TEXT NOT NULL,             -- succeeded | failed | parked | lost
    error_class TEXT,
    error       TEXT,
    confidence  REAL,
    PRIMARY KEY (run_id, node_id, attempt),
    FOREIGN KEY (run_id, node_id) REFERENCES steps (run_id, node_id)
) WITHOUT ROWID;
