-- LLM steps (issue 16): the model connections an admin sets up, and what
-- every attempt records: where its output came from (lineage) and, for an
-- LLM step, its calls (prompt, answers, tokens, cost, confidence).

CREATE TABLE model_connections (
    name       TEXT PRIMARY KEY,
    config     TEXT NOT NULL,                       -- JSON app::domain::llm::ModelConnection
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

ALTER TABLE step_attempts ADD COLUMN lineage TEXT;     -- JSON app::domain::lineage::Lineage
ALTER TABLE step_attempts ADD COLUMN model_call TEXT;  -- JSON app::domain::llm::ModelCall
ALTER TABLE step_attempts ADD COLUMN tokens_in INTEGER;
ALTER TABLE step_attempts ADD COLUMN tokens_out INTEGER;
ALTER TABLE step_attempts ADD COLUMN cost REAL;
