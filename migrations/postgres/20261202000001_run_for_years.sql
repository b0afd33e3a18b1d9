-- Issue 19: Code steps' console lines, idempotent run starts, retention.

-- a Code step's console output (JSON array of lines), in its step log
ALTER TABLE step_attempts ADD COLUMN console TEXT;

-- POST /workflows/{id}/runs with an Idempotency-Key: a repeat finds the first run
ALTER TABLE runs ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX runs_idempotency ON runs (workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- finished runs older than this many days are deleted (NULL: the instance default)
ALTER TABLE workflows ADD COLUMN retention_days BIGINT;
CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL AND parent_run_id IS NULL;
