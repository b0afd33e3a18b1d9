-- Issue 18: chaos runs, monitoring and alerts.

-- A chaos run's fault plan (JSON app::domain::chaos::ChaosPlan); NULL for
-- every other run. Chaos runs are left out of monitoring and metrics.
ALTER TABLE runs ADD COLUMN chaos TEXT;
-- A golden set run with faults injected: it never gates publishing.
ALTER TABLE test_suites ADD COLUMN chaos TEXT;

-- Where a confidence gate stopped the run: the cumulative confidence it
-- had there (the lowest, if several), kept before any person decides, so
-- monitoring sees the doubt and not the person's certainty.
ALTER TABLE runs ADD COLUMN gate_confidence DOUBLE PRECISION;

-- The monitoring page reads a workflow's runs and items over a range.
CREATE INDEX runs_monitoring ON runs (workflow_id, created_at, status, finished_at, confidence, gate_confidence)
    WHERE item_index IS NULL AND chaos IS NULL AND version > 0 AND origin <> 'golden';
CREATE INDEX approval_items_workflow ON approval_items (workflow_id, created_at);

-- Alert rules per workflow, with whether each is firing.
CREATE TABLE alert_rules (
    id             TEXT PRIMARY KEY,
    workflow_id    TEXT NOT NULL REFERENCES workflows (id),
    metric         TEXT NOT NULL,                    -- app::domain::monitoring::alerts::Metric
    threshold      DOUBLE PRECISION NOT NULL,
    window_minutes BIGINT NOT NULL,
    min_runs       BIGINT NOT NULL,
    webhook_url    TEXT,                             -- Slack-compatible; none: banner and audit only
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    firing_since   BIGINT,                          -- firing since then; NULL when quiet
    last_value     DOUBLE PRECISION,
    checked_at     BIGINT
);
CREATE INDEX alert_rules_workflow ON alert_rules (workflow_id);

-- Notices of an alert starting or stopping, waiting to reach a webhook.
CREATE TABLE alert_notices (
    id           TEXT PRIMARY KEY,
    rule_id      TEXT NOT NULL,
    workflow_id  TEXT NOT NULL,
    url          TEXT NOT NULL,
    body         TEXT NOT NULL,                      -- JSON sent as is
    created_at   BIGINT NOT NULL,
    next_at      BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_error   TEXT
);
CREATE INDEX alert_notices_due ON alert_notices (next_at) WHERE delivered_at IS NULL;
