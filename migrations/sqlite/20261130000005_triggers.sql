-- Triggers start a workflow's published version: webhooks (an HTTP
-- delivery) and schedules (cron or interval, in a time zone). `spec` is
-- the JSON definition (domain::triggers::TriggerSpec); `secret` a webhook's
-- sealed key (shown once), `previous_secret` the key it replaced, still
-- accepted until the rotation is finished.
-- A schedule's `next_nominal` is the next nominal fire time it has not
-- handled yet; NULL when paused, or when its pattern matches nothing more.
CREATE TABLE triggers (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows(id),
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'schedule')),
    name TEXT NOT NULL,
    -- a webhook's chosen path (`/hooks/<path>`), unique across triggers
    path TEXT UNIQUE,
    spec TEXT NOT NULL,
    secret BLOB,
    previous_secret BLOB,
    paused INTEGER NOT NULL DEFAULT 0,
    paused_reason TEXT,
    next_nominal INTEGER,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX triggers_workflow ON triggers(workflow_id);
CREATE INDEX triggers_due ON triggers(next_nominal) WHERE kind = 'schedule' AND paused = 0;

-- What each delivery and fire did. A delivery key is unique per trigger
-- (it is cleared once older than the trigger's retention window), and a
-- nominal time is unique per schedule: the row is written in the same
-- transaction as the run it starts, so neither can start two runs.
-- Refused deliveries are not stored (an unauthenticated request never
-- writes to the database); the server keeps the last few in memory.
CREATE TABLE trigger_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger_id TEXT NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    run_id TEXT,
    delivery_key TEXT,
    nominal_at INTEGER
);
CREATE UNIQUE INDEX trigger_events_key ON trigger_events(trigger_id, delivery_key)
    WHERE delivery_key IS NOT NULL;
CREATE UNIQUE INDEX trigger_events_nominal ON trigger_events(trigger_id, nominal_at)
    WHERE nominal_at IS NOT NULL;
CREATE INDEX trigger_events_recent ON trigger_events(trigger_id, id);

-- The trigger that started a run (webhook or schedule), if one did.
ALTER TABLE runs ADD COLUMN trigger_id TEXT;
CREATE INDEX runs_trigger ON runs(trigger_id, status) WHERE trigger_id IS NOT NULL;
