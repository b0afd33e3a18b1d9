-- Issue 20: a run's number in its workflow (#1, #2, ...), kept from its
-- start. It was counted on every look at a run: the count walked all of
-- the workflow's earlier runs (slower with every run), and a run's number
-- changed when retention removed older runs. Item runs go by their root
-- run's number and keep none.
ALTER TABLE runs ADD COLUMN number BIGINT;
UPDATE runs SET number = n.number
  FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY workflow_id ORDER BY created_at, id) AS number
        FROM runs WHERE item_index IS NULL) AS n
  WHERE runs.id = n.id;
CREATE UNIQUE INDEX runs_number ON runs (workflow_id, number) WHERE number IS NOT NULL;
