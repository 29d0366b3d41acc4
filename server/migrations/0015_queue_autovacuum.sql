-- The outbox's queue is core.outbox_work now: each row is inserted with its event and deleted
-- moments later, so dead rows pile up at the rate of the writes while the table stays small.
-- Vacuum and analyze it once a small fraction has changed, as the outbox itself was.
ALTER TABLE "core"."outbox_work" SET (
  autovacuum_analyze_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.01,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_scale_factor = 0.02
);--> statement-breakpoint
-- An event's row is never updated: its dead rows come from retention, a day's worth at a time,
-- which the default thresholds suit. Its statistics still follow the appends closely.
ALTER TABLE "core"."outbox" RESET (autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor);--> statement-breakpoint
-- Every relay message is rewritten when it is delivered and again when it is acked, and the
-- table keeps 30 days of them: under the default 20 % a vacuum would wait for days of marks.
ALTER TABLE "relay"."inbound_messages" SET (
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_scale_factor = 0.02
);
