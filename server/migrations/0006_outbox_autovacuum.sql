-- The outbox is a queue: every row is inserted, updated once or twice and later deleted. Under
-- the default thresholds (20 % of the table) its statistics and dead tuples lag far behind a
-- large backlog, and a claim without statistics sorts every unprocessed row per batch instead
-- of walking the unprocessed-rows index. Analyze and vacuum it (at autovacuum's next round)
-- once a small fraction has changed.
ALTER TABLE "core"."outbox" SET (
  autovacuum_analyze_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.01,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_scale_factor = 0.02
);
