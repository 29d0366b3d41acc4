CREATE TYPE "relay"."account_mode" AS ENUM('direct', 'relay');--> statement-breakpoint
CREATE TYPE "relay"."inbound_message_status" AS ENUM('queued', 'delivered', 'acked', 'expired');--> statement-breakpoint
CREATE TYPE "relay"."outbound_message_status" AS ENUM('pending', 'sent', 'failed');--> statement-breakpoint
CREATE TYPE "relay"."pairing_state" AS ENUM('unpaired', 'pending', 'paired', 'blocked');--> statement-breakpoint
CREATE TYPE "relay"."session_status" AS ENUM('pending_pairing', 'paired', 'expired', 'disconnected');--> statement-breakpoint
CREATE TABLE "relay"."accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"openclaw_user_id" text,
	"relay_token_hash" text NOT NULL,
	"mode" "relay"."account_mode" DEFAULT 'relay' NOT NULL,
	"rate_limit_per_minute" integer DEFAULT 60 NOT NULL,
	"token_issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "relay"."admin_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relay"."conversation_mappings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"conversation_key" text NOT NULL,
	"kakao_channel_id" text NOT NULL,
	"plusfriend_user_key" text NOT NULL,
	"account_id" uuid,
	"state" "relay"."pairing_state" DEFAULT 'unpaired' NOT NULL,
	"last_callback_url" text,
	"last_callback_expires_at" timestamp with time zone,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"paired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "relay"."inbound_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"conversation_key" text NOT NULL,
	"kakao_payload" jsonb NOT NULL,
	"normalized_message" jsonb NOT NULL,
	"callback_url" text,
	"callback_expires_at" timestamp with time zone,
	"callback_used_at" timestamp with time zone,
	"status" "relay"."inbound_message_status" DEFAULT 'queued' NOT NULL,
	"source_event_id" text,
	"event_seq" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	"acked_at" timestamp with time zone,
	"expired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "relay"."outbound_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"inbound_message_id" uuid,
	"conversation_key" text NOT NULL,
	"kakao_target" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"response_payload" jsonb NOT NULL,
	"status" "relay"."outbound_message_status" DEFAULT 'pending' NOT NULL,
	"kakao_status" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "relay"."pairing_codes" (
	"code" text PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"used_by" text,
	"metadata" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relay"."portal_access_codes" (
	"code" text PRIMARY KEY NOT NULL,
	"conversation_key" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"used_at" timestamp with time zone,
	"last_accessed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "relay"."portal_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" text NOT NULL,
	"user_id" uuid,
	"conversation_key" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relay"."portal_users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"account_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_login_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "relay"."sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_token_hash" text NOT NULL,
	"pairing_code" text NOT NULL,
	"status" "relay"."session_status" DEFAULT 'pending_pairing' NOT NULL,
	"account_id" uuid,
	"paired_conversation_key" text,
	"metadata" jsonb,
	"expires_at" timestamp with time zone NOT NULL,
	"paired_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "relay"."conversation_mappings" ADD CONSTRAINT "conversation_mappings_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "relay"."accounts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relay"."inbound_messages" ADD CONSTRAINT "inbound_messages_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "relay"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relay"."outbound_messages" ADD CONSTRAINT "outbound_messages_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "relay"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relay"."outbound_messages" ADD CONSTRAINT "outbound_messages_inbound_message_id_inbound_messages_id_fk" FOREIGN KEY ("inbound_message_id") REFERENCES "relay"."inbound_messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relay"."pairing_codes" ADD CONSTRAINT "pairing_codes_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "relay"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relay"."portal_sessions" ADD CONSTRAINT "portal_sessions_user_id_portal_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "relay"."portal_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relay"."portal_users" ADD CONSTRAINT "portal_users_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "relay"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relay"."sessions" ADD CONSTRAINT "sessions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "relay"."accounts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_relay_token_hash_key" ON "relay"."accounts" USING btree ("relay_token_hash");--> statement-breakpoint
CREATE INDEX "accounts_openclaw_user_id_idx" ON "relay"."accounts" USING btree ("openclaw_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "admin_sessions_token_hash_key" ON "relay"."admin_sessions" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "admin_sessions_expires_idx" ON "relay"."admin_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "conversation_mappings_key" ON "relay"."conversation_mappings" USING btree ("conversation_key");--> statement-breakpoint
CREATE UNIQUE INDEX "conversation_mappings_channel_user_key" ON "relay"."conversation_mappings" USING btree ("kakao_channel_id","plusfriend_user_key");--> statement-breakpoint
CREATE INDEX "conversation_mappings_account_idx" ON "relay"."conversation_mappings" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "conversation_mappings_state_idx" ON "relay"."conversation_mappings" USING btree ("state");--> statement-breakpoint
CREATE UNIQUE INDEX "inbound_messages_source_event_key" ON "relay"."inbound_messages" USING btree ("source_event_id");--> statement-breakpoint
CREATE INDEX "inbound_messages_account_seq_idx" ON "relay"."inbound_messages" USING btree ("account_id","event_seq");--> statement-breakpoint
CREATE INDEX "inbound_messages_conversation_idx" ON "relay"."inbound_messages" USING btree ("conversation_key","created_at");--> statement-breakpoint
CREATE INDEX "inbound_messages_created_idx" ON "relay"."inbound_messages" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "inbound_messages_open_idx" ON "relay"."inbound_messages" USING btree ("account_id","status") WHERE status in ('queued', 'delivered');--> statement-breakpoint
CREATE INDEX "outbound_messages_account_idx" ON "relay"."outbound_messages" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE INDEX "outbound_messages_inbound_idx" ON "relay"."outbound_messages" USING btree ("inbound_message_id");--> statement-breakpoint
CREATE INDEX "outbound_messages_conversation_idx" ON "relay"."outbound_messages" USING btree ("conversation_key","created_at");--> statement-breakpoint
CREATE INDEX "outbound_messages_status_idx" ON "relay"."outbound_messages" USING btree ("status");--> statement-breakpoint
CREATE INDEX "pairing_codes_account_idx" ON "relay"."pairing_codes" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "pairing_codes_expires_idx" ON "relay"."pairing_codes" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "portal_access_codes_open_idx" ON "relay"."portal_access_codes" USING btree ("conversation_key","expires_at") WHERE used_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "portal_sessions_token_hash_key" ON "relay"."portal_sessions" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "portal_sessions_user_idx" ON "relay"."portal_sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "portal_sessions_expires_idx" ON "relay"."portal_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "portal_users_email_key" ON "relay"."portal_users" USING btree ("email");--> statement-breakpoint
CREATE INDEX "portal_users_account_idx" ON "relay"."portal_users" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "relay"."sessions" USING btree ("session_token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_pairing_code_key" ON "relay"."sessions" USING btree ("pairing_code");--> statement-breakpoint
CREATE INDEX "sessions_status_expires_idx" ON "relay"."sessions" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "sessions_account_idx" ON "relay"."sessions" USING btree ("account_id");