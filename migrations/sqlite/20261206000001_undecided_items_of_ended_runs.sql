-- An undecided approval item belongs to a running run: a run's end cancels
-- its undecided items in the same transaction, and the inbox relies on it
-- (it no longer looks each item's run up). Items left undecided by runs
-- that ended before that was so are closed here as the engine closes them.
UPDATE approval_items
   SET status = 'cancelled',
       decided_at = COALESCE((SELECT r.finished_at FROM runs r WHERE r.id = approval_items.run_id), 0),
       decided_by = 'engine',
       comment = 'the run ended before anyone decided'
 WHERE status = 'pending'
   AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = approval_items.run_id AND r.status = 'running');
