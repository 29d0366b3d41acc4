-- An event's row is written once; the work left on it lives in core.outbox_work.
CREATE TABLE "core"."outbox_work" (
	"event_id" bigint PRIMARY KEY NOT NULL,
	"pending" text[] NOT NULL,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"error" text,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dead_lettered_at" timestamp with time zone
);
--> statement-breakpoint
-- The work left on events not yet processed moves to its own table; processed events have none.
INSERT INTO "core"."outbox_work" ("event_id", "pending", "retry_count", "error", "available_at", "dead_lettered_at")
SELECT "id", "pending", "retry_count", "error", "available_at", "dead_lettered_at"
FROM "core"."outbox" WHERE NOT "processed";--> statement-breakpoint
-- Events are never updated now, and half-filled pages cost more page writes than a delivered
-- mark's WAL saves: both tables fill their pages again.
ALTER TABLE "core"."outbox" RESET (fillfactor);--> statement-breakpoint
ALTER TABLE "relay"."inbound_messages" RESET (fillfactor);--> statement-breakpoint
DROP INDEX "core"."outbox_due_idx";--> statement-breakpoint
DROP INDEX "core"."outbox_dead_letters_idx";--> statement-breakpoint
DROP INDEX "core"."outbox_processed_at_idx";--> statement-breakpoint
CREATE INDEX "outbox_work_due_idx" ON "core"."outbox_work" USING btree ("available_at") WHERE "core"."outbox_work"."dead_lettered_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_work_dead_letters_idx" ON "core"."outbox_work" USING btree ("event_id") WHERE "core"."outbox_work"."dead_lettered_at" is not null;--> statement-breakpoint
CREATE INDEX "outbox_created_idx" ON "core"."outbox" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "core"."outbox" DROP COLUMN "pending";--> statement-breakpoint
ALTER TABLE "core"."outbox" DROP COLUMN "processed";--> statement-breakpoint
ALTER TABLE "core"."outbox" DROP COLUMN "processed_at";--> statement-breakpoint
ALTER TABLE "core"."outbox" DROP COLUMN "retry_count";--> statement-breakpoint
ALTER TABLE "core"."outbox" DROP COLUMN "error";--> statement-breakpoint
ALTER TABLE "core"."outbox" DROP COLUMN "available_at";--> statement-breakpoint
ALTER TABLE "core"."outbox" DROP COLUMN "dead_lettered_at";