-- Approval items get a lifecycle of their own:
-- * status `cancelled`: the item's run ended before anyone decided it;
-- * `superseded_at`: the step was run again (a retry, or another attempt of
--   its retry policy) and asks anew; the old item stays, decided, in the
--   history, and only the current item of a step is unique;
-- * `current_output`: with N-of-M, the output as the approvers so far left
--   it, which the next approver sees and edits.
-- Decisions record the person (`actor`, one decision a person) and, when
-- they decided through an API token, the token (`via`).
--
-- SQLite cannot change a CHECK in place: both tables are rebuilt. The
-- decisions are moved first and the old tables dropped child first, so no
-- foreign key ever points at a missing row; renaming the new items table
-- carries the decisions' reference along.

CREATE TABLE approval_items_new (
    id               TEXT PRIMARY KEY,             -- apv_<uuid>
    run_id           TEXT NOT NULL REFERENCES runs (id),
    node_id          TEXT NOT NULL,
    workflow_id      TEXT NOT NULL,
    workflow_name    TEXT NOT NULL,
    node_name        TEXT NOT NULL,
    reason           TEXT NOT NULL CHECK (reason IN ('approval', 'confidence')),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    title            TEXT NOT NULL,
    instructions     TEXT NOT NULL,                -- rendered
    roles            TEXT NOT NULL,                -- JSON array: who may decide
    users            TEXT NOT NULL,                -- JSON array
    required         INTEGER NOT NULL,
    allow_self       INTEGER NOT NULL,
    started_by       TEXT NOT NULL,                -- the person who started the run
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
    comment          TEXT,
    superseded_at    INTEGER,
    current_output   TEXT                          -- JSON, N-of-M: as edited so far
);
INSERT INTO approval_items_new
    SELECT id, run_id, node_id, workflow_id, workflow_name, node_name, reason, status, title, instructions,
           roles, users, required, allow_self, started_by, form, proposed, context, deadline_at,
           deadline_action, escalated_to, created_at, decided_at, decided_by, final_output, comment,
           NULL, NULL
    FROM approval_items;

CREATE TABLE approval_decisions_new (
    item_id   TEXT NOT NULL REFERENCES approval_items_new (id),
    actor     TEXT NOT NULL,                       -- the person: user:<name> (or token:<id>)
    via       TEXT,                                -- token:<id> when decided through a token
    decision  TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment   TEXT NOT NULL,
    output    TEXT,                                -- JSON, as edited by this person
    answers   TEXT,                                -- JSON form answers
    at        INTEGER NOT NULL,
    PRIMARY KEY (item_id, actor)
);
INSERT INTO approval_decisions_new
    SELECT item_id, actor, NULL, decision, comment, output, answers, at FROM approval_decisions;

DROP TABLE approval_decisions;
DROP TABLE approval_items;
ALTER TABLE approval_items_new RENAME TO approval_items;
ALTER TABLE approval_decisions_new RENAME TO approval_decisions;

CREATE UNIQUE INDEX approval_items_step ON approval_items (run_id, node_id) WHERE superseded_at IS NULL;
CREATE INDEX approval_items_pending ON approval_items (status, created_at);
-- The inbox's order (nearest deadline first, then newest): a page is read
-- off this index instead of sorting every pending item.
CREATE INDEX approval_items_inbox ON approval_items (status, deadline_at IS NULL, deadline_at, created_at DESC);

-- Attempts of a step whose worker died (its lease ran out) since it last
-- started afresh: past a limit the step fails instead of crash-looping.
ALTER TABLE steps ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
