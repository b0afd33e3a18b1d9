-- Human checkpoints: one item per approval step (or confidence gate) that
-- waits for people, and each person's decision on it.

CREATE TABLE approval_items (
    id               TEXT PRIMARY KEY,             -- apv_<uuid>
    run_id           TEXT NOT NULL REFERENCES runs (id),
    node_id          TEXT NOT NULL,
    workflow_id      TEXT NOT NULL,
    workflow_name    TEXT NOT NULL,
    node_name        TEXT NOT NULL,
    reason           TEXT NOT NULL CHECK (reason IN ('approval', 'confidence')),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    title            TEXT NOT NULL,
    instructions     TEXT NOT NULL,                -- rendered
    roles            TEXT NOT NULL,                -- JSON array: who may decide
    users            TEXT NOT NULL,                -- JSON array
    required         INTEGER NOT NULL,
    allow_self       INTEGER NOT NULL,
    started_by       TEXT NOT NULL,                -- the run's starter (actor)
    form             TEXT NOT NULL,                -- JSON array of form fields
    proposed         TEXT NOT NULL,                -- JSON: the output up for decision
    context          TEXT NOT NULL,                -- JSON: input and upstream steps with confidence
    deadline_at      INTEGER,
    deadline_action  TEXT,                         -- JSON DeadlineAction
    escalated_to     TEXT,
    created_at       INTEGER NOT NULL,
    decided_at       INTEGER,
    decided_by       TEXT,
    final_output     TEXT,                         -- JSON
    comment          TEXT
);
CREATE UNIQUE INDEX approval_items_step ON approval_items (run_id, node_id);
CREATE INDEX approval_items_pending ON approval_items (status, created_at);

CREATE TABLE approval_decisions (
    item_id   TEXT NOT NULL REFERENCES approval_items (id),
    actor     TEXT NOT NULL,
    decision  TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment   TEXT NOT NULL,
    output    TEXT,                                -- JSON, as edited by this person
    answers   TEXT,                                -- JSON form answers
    at        INTEGER NOT NULL,
    PRIMARY KEY (item_id, actor)
);
