-- Issue 19: telling people about work waiting for them.

-- each person's address and how they want to hear (each item, a daily digest, or not)
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN notify TEXT NOT NULL DEFAULT 'each' CHECK (notify IN ('each', 'digest', 'off'));
ALTER TABLE users ADD COLUMN digest_at BIGINT;               -- the last daily digest sent

-- what an approval item has been announced for: 1 opened, 2 escalated,
-- 4 deadline near (7: nothing more to say). Items open before this
-- release are not announced again.
ALTER TABLE approval_items ADD COLUMN notified BIGINT NOT NULL DEFAULT 0;
UPDATE approval_items SET notified = 7;
CREATE INDEX approval_items_unannounced ON approval_items (deadline_at) WHERE status = 'pending' AND notified != 7;

-- every message on its way out (emails and webhooks, approvals and
-- alerts alike): kept until delivered, retried with backoff, given up
-- after a number of tries; admins see what failed
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    destination  TEXT NOT NULL,                      -- an address or a URL
    subject      TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL,                      -- email: plain text; webhook: JSON sent as is
    reason       TEXT NOT NULL,                      -- approval.opened, alert, digest, ...
    workflow_id  TEXT,
    rule_id      TEXT,
    item_id      TEXT,
    created_at   BIGINT NOT NULL,
    next_at      BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    given_up_at  BIGINT,
    last_error   TEXT
);
INSERT INTO notifications (id, channel, destination, body, reason, workflow_id, rule_id,
                           created_at, next_at, attempts, delivered_at, given_up_at, last_error)
    SELECT id, 'webhook', url, body, 'alert', workflow_id, rule_id, created_at, next_at, attempts,
           CASE WHEN delivered_at = -1 THEN NULL ELSE delivered_at END,
           CASE WHEN delivered_at = -1 THEN next_at ELSE NULL END, last_error
    FROM alert_notices;
DROP TABLE alert_notices;
CREATE INDEX notifications_due ON notifications (next_at) WHERE delivered_at IS NULL AND given_up_at IS NULL;
CREATE INDEX notifications_recent ON notifications (created_at);
CREATE INDEX notifications_rule ON notifications (workflow_id, created_at) WHERE rule_id IS NOT NULL;
