-- Golden sets (issue 18): a workflow's test cases, and each run of a
-- version against them: the test run each case got and, once judged, how
-- it did. A workflow may require its golden set to pass before publishing.

CREATE TABLE test_cases (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL,                      -- JSON app::domain::golden::CaseSpec
    source      TEXT,                               -- run:<id> or item:<id>
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX test_cases_workflow ON test_cases (workflow_id, created_at);

CREATE TABLE test_suites (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    version     INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    started_by  TEXT NOT NULL,
    finished_at INTEGER                             -- once every case is judged
);
CREATE INDEX test_suites_workflow ON test_suites (workflow_id, version, started_at);

CREATE TABLE test_suite_cases (
    suite_id TEXT NOT NULL REFERENCES test_suites (id),
    case_id  TEXT NOT NULL,
    run_id   TEXT NOT NULL UNIQUE REFERENCES runs (id),
    spec     TEXT NOT NULL,                         -- the case as it was run
    result   TEXT,                                  -- JSON app::domain::golden::judge::CaseResult
    asked    TEXT NOT NULL DEFAULT '[]',            -- JSON [[step, reason]]: where a person would have been asked
    PRIMARY KEY (suite_id, case_id)
);

-- the share of the golden set (percent) publishing requires; NULL: none
ALTER TABLE workflows ADD COLUMN publish_min_pass REAL;
