-- Several processes on one database (issue 17): who waits for a webhook's
-- next delivery as a test event, and the event once any process caught
-- it. A row lives as long as its listener waits (at most two minutes).

CREATE TABLE trigger_listens (
    id         TEXT PRIMARY KEY,
    trigger_id TEXT NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    until_at   INTEGER NOT NULL,
    event      TEXT                                  -- JSON app::ops::triggers::TestEvent
);
CREATE INDEX trigger_listens_trigger ON trigger_listens (trigger_id, until_at);
