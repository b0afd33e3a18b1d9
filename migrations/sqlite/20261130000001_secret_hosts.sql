-- Each secret lists the hosts it may be sent to (host patterns separated by
-- ", "; see app::domain::outbound). A secret saved before this column
-- existed may be sent nowhere until an admin names its hosts.
ALTER TABLE secrets ADD COLUMN hosts TEXT NOT NULL DEFAULT '';
