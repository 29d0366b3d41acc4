ALTER TABLE "relay"."portal_access_codes" RENAME COLUMN "code" TO "code_hash";--> statement-breakpoint
-- Rows written before this held the codes themselves. Codes are single-use and live 30 minutes,
-- so they are dropped rather than hashed: a user who still needs one asks `/code` again.
DELETE FROM "relay"."portal_access_codes";
