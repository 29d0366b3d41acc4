// The pipeline's tables in the `core` schema: the transactional outbox and per-topic sequences.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { core } from '../store/schema.js';

/**
 * One row per event, written in the same transaction as the domain rows it describes. It is also
 * the durable history of its topic: `(topic, seq)` is gap-free per topic, so a client that
 * missed a publish reads it back from here until retention removes processed rows.
 *
 * Pages are filled to half (`fillfactor = 50`, set by migration 0012_update_room, which drizzle
 * cannot declare): a batch's processed marks then put each row's new version on its own page, and
 * PostgreSQL logs only the changed bytes instead of the payload again.
 */
export const outbox = core.table(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    topic: text('topic').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    payload: jsonb('payload').notNull(),
    /** Consumers whose work on this event is still to do; one failing retries only itself. */
    pending: text('pending')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    processed: boolean('processed').notNull().default(false),
    processedAt: timestamp('processed_at', { withTimezone: true }),
    retryCount: integer('retry_count').notNull().default(0),
    error: text('error'),
    /** Workers leave a row alone before this: the committing process's turn, or a backoff. */
    availableAt: timestamp('available_at', { withTimezone: true }).notNull().defaultNow(),
    deadLetteredAt: timestamp('dead_lettered_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('outbox_topic_seq_key').on(t.topic, t.seq),
    // The workers' claim walks this in due order and stops at `now()`: events still in their
    // committing process's turn are never visited. Entries of processed events stay until vacuum;
    // the claim's plain index scan marks them dead as it passes, so later claims skip them.
    index('outbox_due_idx')
      .on(t.availableAt)
      .where(sql`not ${t.processed} and ${t.deadLetteredAt} is null`),
    index('outbox_dead_letters_idx')
      .on(t.id)
      .where(sql`not ${t.processed} and ${t.deadLetteredAt} is not null`),
    index('outbox_processed_at_idx')
      .on(t.processedAt)
      .where(sql`${t.processed}`),
  ],
);

/** The newest seq of every durable topic; its row lock orders concurrent writers per topic. */
export const topicSeqs = core.table('topic_seqs', {
  topic: text('topic').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
});
