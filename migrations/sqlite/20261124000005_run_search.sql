-- The runs list pages newest first (keyset on created_at, id), also by status.
CREATE INDEX runs_newest ON runs (created_at DESC, id DESC);
CREATE INDEX runs_status ON runs (status, created_at DESC, id DESC);
