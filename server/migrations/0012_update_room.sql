-- Leave room on every page for the new versions of its rows: an event's processed mark and a
-- message's delivered mark then stay on the row's page, and PostgreSQL logs only the bytes that
-- changed instead of the whole row (its payload) a second time.
ALTER TABLE "core"."outbox" SET (fillfactor = 50);--> statement-breakpoint
ALTER TABLE "relay"."inbound_messages" SET (fillfactor = 50);
