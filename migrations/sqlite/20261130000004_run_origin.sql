-- How each run started: `manual` (Run in the browser), `api` (REST),
-- `rerun`, `test` (a test run of an unsaved working copy), and later
-- `webhook` and `schedule`. Runs from before this was recorded say
-- `unknown`.
ALTER TABLE runs ADD COLUMN origin TEXT NOT NULL DEFAULT 'unknown';
