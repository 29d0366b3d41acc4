CREATE TABLE "core"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"topic" text NOT NULL,
	"seq" bigint NOT NULL,
	"payload" jsonb NOT NULL,
	"pending" text[] DEFAULT '{}'::text[] NOT NULL,
	"processed" boolean DEFAULT false NOT NULL,
	"processed_at" timestamp with time zone,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"error" text,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dead_lettered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "core"."topic_seqs" (
	"topic" text PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_topic_seq_key" ON "core"."outbox" USING btree ("topic","seq");--> statement-breakpoint
CREATE INDEX "outbox_unprocessed_idx" ON "core"."outbox" USING btree ("id") WHERE not "core"."outbox"."processed" and "core"."outbox"."dead_lettered_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_dead_letters_idx" ON "core"."outbox" USING btree ("id") WHERE not "core"."outbox"."processed" and "core"."outbox"."dead_lettered_at" is not null;--> statement-breakpoint
CREATE INDEX "outbox_processed_at_idx" ON "core"."outbox" USING btree ("processed_at") WHERE "core"."outbox"."processed";