-- Golden sets (see the SQLite migration of the same name).

CREATE TABLE test_cases (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL,
    source      TEXT,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX test_cases_workflow ON test_cases (workflow_id, created_at);

CREATE TABLE test_suites (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    version     BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    started_by  TEXT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX test_suites_workflow ON test_suites (workflow_id, version, started_at);

CREATE TABLE test_suite_cases (
    suite_id TEXT NOT NULL REFERENCES test_suites (id),
    case_id  TEXT NOT NULL,
    run_id   TEXT NOT NULL UNIQUE REFERENCES runs (id),
    spec     TEXT NOT NULL,
    result   TEXT,
    asked    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (suite_id, case_id)
);

ALTER TABLE workflows ADD COLUMN publish_min_pass DOUBLE PRECISION;
