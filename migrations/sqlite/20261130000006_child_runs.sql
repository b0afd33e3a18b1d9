-- A run started by a Sub-workflow step names its parent run and step; the
-- parent's step waits (parked) until the child ends.
ALTER TABLE runs ADD COLUMN parent_run_id TEXT;
ALTER TABLE runs ADD COLUMN parent_node_id TEXT;
CREATE INDEX runs_parent ON runs(parent_run_id, parent_node_id) WHERE parent_run_id IS NOT NULL;
