-- Who waits for a webhook's next delivery as a test event, and the event
-- once any process caught it (see the SQLite migration of the same name).

CREATE TABLE trigger_listens (
    id         TEXT PRIMARY KEY,
    trigger_id TEXT NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    until_at   BIGINT NOT NULL,
    event      TEXT
);
CREATE INDEX trigger_listens_trigger ON trigger_listens (trigger_id, until_at);
