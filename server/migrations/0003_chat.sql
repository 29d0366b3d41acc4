CREATE TABLE "chat"."channel_members" (
	"channel_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" text DEFAULT 'member' NOT NULL,
	"last_read_seq" bigint DEFAULT 0 NOT NULL,
	"mention_count" integer DEFAULT 0 NOT NULL,
	"muted" boolean DEFAULT false NOT NULL,
	"notify_level" text DEFAULT 'all' NOT NULL,
	"joined_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_members_channel_id_user_id_pk" PRIMARY KEY("channel_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "chat"."channels" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"name" text,
	"topic" text DEFAULT '' NOT NULL,
	"purpose" text DEFAULT '' NOT NULL,
	"dm_key" text,
	"created_by" uuid NOT NULL,
	"member_count" integer DEFAULT 0 NOT NULL,
	"last_message_seq" bigint DEFAULT 0 NOT NULL,
	"last_message_at" timestamp with time zone,
	"archived_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat"."idempotency_keys" (
	"user_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer,
	"response" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_user_id_key_pk" PRIMARY KEY("user_id","key")
);
--> statement-breakpoint
CREATE TABLE "chat"."messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"channel_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"author_id" uuid NOT NULL,
	"thread_root_id" uuid,
	"body" text NOT NULL,
	"mention_user_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"mentions_channel" boolean DEFAULT false NOT NULL,
	"mentions_here" boolean DEFAULT false NOT NULL,
	"client_msg_id" text,
	"reply_count" integer DEFAULT 0 NOT NULL,
	"last_reply_seq" bigint,
	"last_reply_at" timestamp with time zone,
	"thread_participant_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"pinned_at" timestamp with time zone,
	"pinned_by" uuid,
	"edited_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat"."reactions" (
	"message_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"emoji" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reactions_message_id_emoji_user_id_pk" PRIMARY KEY("message_id","emoji","user_id")
);
--> statement-breakpoint
CREATE TABLE "chat"."refresh_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"family_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"user_agent" text,
	"ip" text
);
--> statement-breakpoint
CREATE TABLE "chat"."thread_follows" (
	"root_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"following" boolean DEFAULT true NOT NULL,
	"last_read_seq" bigint DEFAULT 0 NOT NULL,
	"mention_count" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "thread_follows_root_id_user_id_pk" PRIMARY KEY("root_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "chat"."users" (
	"id" uuid PRIMARY KEY NOT NULL,
	"email" text,
	"username" text NOT NULL,
	"display_name" text NOT NULL,
	"avatar_url" text,
	"password_hash" text,
	"external_subject" text,
	"status_message" text,
	"custom_status_emoji" text,
	"custom_status_text" text,
	"custom_status_expires_at" timestamp with time zone,
	"notification_settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"theme" text DEFAULT 'system' NOT NULL,
	"is_bot" boolean DEFAULT false NOT NULL,
	"failed_logins" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"deactivated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat"."workspace_invites" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"email" text,
	"role" text DEFAULT 'member' NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"max_uses" integer DEFAULT 1 NOT NULL,
	"uses" integer DEFAULT 0 NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "chat"."workspace_members" (
	"workspace_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" text NOT NULL,
	"joined_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workspace_members_workspace_id_user_id_pk" PRIMARY KEY("workspace_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "chat"."workspaces" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "channel_members_user_idx" ON "chat"."channel_members" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "channels_workspace_name_key" ON "chat"."channels" USING btree ("workspace_id",lower("name")) WHERE "chat"."channels"."name" is not null and "chat"."channels"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "channels_dm_key" ON "chat"."channels" USING btree ("workspace_id","dm_key");--> statement-breakpoint
CREATE INDEX "channels_workspace_idx" ON "chat"."channels" USING btree ("workspace_id","kind");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "chat"."idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_channel_seq_key" ON "chat"."messages" USING btree ("channel_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_client_msg_key" ON "chat"."messages" USING btree ("channel_id","author_id","client_msg_id");--> statement-breakpoint
CREATE INDEX "messages_thread_idx" ON "chat"."messages" USING btree ("thread_root_id","seq");--> statement-breakpoint
CREATE INDEX "messages_author_idx" ON "chat"."messages" USING btree ("author_id","created_at");--> statement-breakpoint
CREATE INDEX "messages_pinned_idx" ON "chat"."messages" USING btree ("channel_id","pinned_at") WHERE "chat"."messages"."pinned_at" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "refresh_tokens_hash_key" ON "chat"."refresh_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "refresh_tokens_family_idx" ON "chat"."refresh_tokens" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_user_idx" ON "chat"."refresh_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_expires_idx" ON "chat"."refresh_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "thread_follows_user_idx" ON "chat"."thread_follows" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "chat"."users" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_key" ON "chat"."users" USING btree ("username");--> statement-breakpoint
CREATE UNIQUE INDEX "users_external_subject_key" ON "chat"."users" USING btree ("external_subject");--> statement-breakpoint
CREATE UNIQUE INDEX "workspace_invites_code_key" ON "chat"."workspace_invites" USING btree ("code_hash");--> statement-breakpoint
CREATE INDEX "workspace_invites_workspace_idx" ON "chat"."workspace_invites" USING btree ("workspace_id");--> statement-breakpoint
CREATE INDEX "workspace_members_user_idx" ON "chat"."workspace_members" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workspaces_slug_key" ON "chat"."workspaces" USING btree ("slug");