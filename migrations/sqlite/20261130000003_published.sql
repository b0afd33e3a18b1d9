-- At most one version of a workflow is published: the one triggers and a
-- REST start without a version run (NULL: none is). Who published it and
-- when are kept with it; the audit trail has every change.
ALTER TABLE workflows ADD COLUMN published_version INTEGER;
ALTER TABLE workflows ADD COLUMN published_at INTEGER;
ALTER TABLE workflows ADD COLUMN published_by TEXT;
