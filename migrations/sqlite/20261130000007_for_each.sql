-- A For each step's list: one row per item, kept with the step attempt
-- that took the list (`round`), so a retried step starts a list of its own.
CREATE TABLE foreach_items (
    run_id  TEXT NOT NULL REFERENCES runs (id),
    node_id TEXT NOT NULL,
    round     INTEGER NOT NULL,
    idx     INTEGER NOT NULL,
    item    TEXT NOT NULL,
    PRIMARY KEY (run_id, node_id, round, idx)
);

-- Each item runs the For each's body as an item run: a run whose parent
-- is the For each's run and step, with its place in the list.
ALTER TABLE runs ADD COLUMN item_index INTEGER;
ALTER TABLE runs ADD COLUMN item_round INTEGER;
-- "3", or "3.2" for item 2 of a For each inside item 3's body
ALTER TABLE runs ADD COLUMN item_path TEXT;
-- the run the iteration belongs to (the nearest run that is not an item)
ALTER TABLE runs ADD COLUMN item_root TEXT;
CREATE INDEX runs_items ON runs (parent_run_id, parent_node_id, item_round, item_index)
    WHERE item_index IS NOT NULL;
