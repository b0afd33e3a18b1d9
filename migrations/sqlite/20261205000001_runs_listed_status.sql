-- The runs list's count per status (the runs that are not For each items):
-- an index that holds all it reads, instead of every run read in full.
CREATE INDEX runs_listed_status ON runs (status) WHERE item_index IS NULL;
