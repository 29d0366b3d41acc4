// The pipeline's tables in the `core` schema: the transactional outbox, the work left on its
// events, and per-topic sequences.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { core } from '../store/schema.js';

/**
 * One row per event, written in the same transaction as the domain rows it describes, and never
 * updated. It is also the durable history of its topic: `(topic, seq)` is gap-free per topic, so
 * a client that missed a publish reads it back from here until retention removes the event.
 */
export const outbox = core.table(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    topic: text('topic').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('outbox_topic_seq_key').on(t.topic, t.seq),
    // Retention walks this from the oldest event.
    index('outbox_created_idx').on(t.createdAt),
  ],
);

/**
 * The work still to do on an event: a row per event that has consumers left, deleted when the
 * last one succeeded. The event's row stays as written, so marking it done logs a few dozen bytes
 * instead of a new version of the whole event, payload included. No foreign key: the event is
 * written in the same statement, and retention deletes only events without work.
 */
export const outboxWork = core.table(
  'outbox_work',
  {
    eventId: bigint('event_id', { mode: 'number' }).primaryKey(),
    /** Consumers whose work on this event is still to do; one failing retries only itself. */
    pending: text('pending').array().notNull(),
    retryCount: integer('retry_count').notNull().default(0),
    error: text('error'),
    /** Workers leave a row alone before this: the committing process's turn, or a backoff. */
    availableAt: timestamp('available_at', { withTimezone: true }).notNull().defaultNow(),
    deadLetteredAt: timestamp('dead_lettered_at', { withTimezone: true }),
  },
  (t) => [
    // The workers' claim walks this in due order and stops at `now()`: work still in its
    // committing process's turn is never visited. Entries of deleted rows stay until vacuum; the
    // claim's plain index scan marks them dead as it passes, so later claims skip them.
    index('outbox_work_due_idx')
      .on(t.availableAt)
      .where(sql`${t.deadLetteredAt} is null`),
    index('outbox_work_dead_letters_idx')
      .on(t.eventId)
      .where(sql`${t.deadLetteredAt} is not null`),
  ],
);

/** The newest seq of every durable topic; its row lock orders concurrent writers per topic. */
export const topicSeqs = core.table('topic_seqs', {
  topic: text('topic').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
});
