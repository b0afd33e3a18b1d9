-- Bounded loops: a step in a loop runs once per pass. `pass` counts the
-- passes it ran in this run (0: the first), `pass_base` how many attempts
-- it had before this pass (its retries count from there), and for a loop's
-- entry `lap` counts the passes of its own loop since it was last entered
-- from outside (an outer loop going round starts an inner one afresh).
ALTER TABLE steps ADD COLUMN pass INTEGER NOT NULL DEFAULT 0;
ALTER TABLE steps ADD COLUMN lap INTEGER NOT NULL DEFAULT 0;
ALTER TABLE steps ADD COLUMN pass_base INTEGER NOT NULL DEFAULT 0;
ALTER TABLE step_attempts ADD COLUMN pass INTEGER NOT NULL DEFAULT 0;

-- What a step of a loop ended with in each pass before its current one
-- (`.steps.<id>.iterations[i]`).
CREATE TABLE step_passes (
    run_id      TEXT NOT NULL,
    node_id     TEXT NOT NULL,
    pass        INTEGER NOT NULL,
    status      TEXT NOT NULL,
    port        TEXT,
    output      TEXT,
    confidence  REAL,
    finished_at INTEGER,
    PRIMARY KEY (run_id, node_id, pass),
    FOREIGN KEY (run_id, node_id) REFERENCES steps (run_id, node_id)
);
