// The `core` PostgreSQL schema: tables owned by the realtime core, pipeline and push API.
import { sql } from 'drizzle-orm';
import { index, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const core = pgSchema('core');

/**
 * Server API keys for other backends calling the push API. Only a SHA-256 of the key is kept:
 * keys are 256-bit random secrets, so a slow password hash would buy nothing. `prefix` is the
 * public, unique part of the key (`sbk_<prefix>_<secret>`) used for lookup and display.
 */
export const apiKeys = core.table(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    scopes: text('scopes')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('api_keys_prefix_key').on(t.prefix),
    index('api_keys_created_at_idx').on(t.createdAt),
  ],
);
