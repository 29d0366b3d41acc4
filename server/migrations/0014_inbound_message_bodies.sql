-- What Kakao sent is written once, beside the message row that its status marks rewrite.
CREATE TABLE "relay"."inbound_message_bodies" (
	"message_id" uuid PRIMARY KEY NOT NULL,
	"kakao_payload" jsonb NOT NULL,
	"normalized_message" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "relay"."inbound_message_bodies" ADD CONSTRAINT "inbound_message_bodies_message_id_inbound_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "relay"."inbound_messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Every message keeps its payload: moved before the columns go.
INSERT INTO "relay"."inbound_message_bodies" ("message_id", "kakao_payload", "normalized_message")
SELECT "id", "kakao_payload", "normalized_message" FROM "relay"."inbound_messages";--> statement-breakpoint
ALTER TABLE "relay"."inbound_messages" DROP COLUMN "kakao_payload";--> statement-breakpoint
ALTER TABLE "relay"."inbound_messages" DROP COLUMN "normalized_message";