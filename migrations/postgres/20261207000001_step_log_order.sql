-- Issue 20: the step log's order among attempts started in the same
-- millisecond (a run's opening steps, recorded in one transaction): the
-- order they were written in, from a clock that never goes back
-- (app::store::runs::attempts::log_seq).
ALTER TABLE step_attempts ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
