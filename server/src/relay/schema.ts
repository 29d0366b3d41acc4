// The `relay` PostgreSQL schema: Kakao ↔ OpenClaw accounts, conversation mappings, pairing
// (owner-issued codes and plugin-created sessions), inbound and outbound messages, and the admin
// and portal sessions.
//
// Every event an agent receives (a message, a pairing notice) is an outbox event on the durable
// topic `relay.account.<id>` or `relay.session.<id>`; an inbound message keeps the seq of its
// `message` event, which is also its SSE `id:`, so a stream resumes from PostgreSQL.
//
// Tokens and session secrets are stored only as hashes: SHA-256 for the 256-bit random agent
// tokens, HMAC-SHA256 with a server secret for admin and portal session cookies.
import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const relay = pgSchema('relay');

export const accountMode = relay.enum('account_mode', ['direct', 'relay']);
export const pairingState = relay.enum('pairing_state', [
  'unpaired',
  'pending',
  'paired',
  'blocked',
]);
export const inboundMessageStatus = relay.enum('inbound_message_status', [
  'queued',
  'delivered',
  'acked',
  'expired',
]);
export const outboundMessageStatus = relay.enum('outbound_message_status', [
  'pending',
  'sent',
  'failed',
]);
export const sessionStatus = relay.enum('session_status', [
  'pending_pairing',
  'paired',
  'expired',
  'disconnected',
]);

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
const at = (name: string) => timestamp(name, { withTimezone: true });

/** An OpenClaw agent (or a person's set of agents) that Kakao conversations pair with. */
export const accounts = relay.table(
  'accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    openclawUserId: text('openclaw_user_id'),
    /** SHA-256 (hex) of the account's relay token. */
    relayTokenHash: text('relay_token_hash').notNull(),
    mode: accountMode('mode').notNull().default('relay'),
    rateLimitPerMinute: integer('rate_limit_per_minute').notNull().default(60),
    /** When the current relay token was issued (shown to owners, never the token itself). */
    tokenIssuedAt: at('token_issued_at').notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    disabledAt: at('disabled_at'),
  },
  (t) => [
    uniqueIndex('accounts_relay_token_hash_key').on(t.relayTokenHash),
    index('accounts_openclaw_user_id_idx').on(t.openclawUserId),
  ],
);

/** One Kakao user of one bot: `<bot id>:<plusfriendUserKey>`, and which account it is paired to. */
export const conversationMappings = relay.table(
  'conversation_mappings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    conversationKey: text('conversation_key').notNull(),
    kakaoChannelId: text('kakao_channel_id').notNull(),
    plusfriendUserKey: text('plusfriend_user_key').notNull(),
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'set null' }),
    state: pairingState('state').notNull().default('unpaired'),
    lastCallbackUrl: text('last_callback_url'),
    lastCallbackExpiresAt: at('last_callback_expires_at'),
    firstSeenAt: at('first_seen_at').notNull().defaultNow(),
    lastSeenAt: at('last_seen_at').notNull().defaultNow(),
    pairedAt: at('paired_at'),
  },
  (t) => [
    uniqueIndex('conversation_mappings_key').on(t.conversationKey),
    uniqueIndex('conversation_mappings_channel_user_key').on(t.kakaoChannelId, t.plusfriendUserKey),
    index('conversation_mappings_account_idx').on(t.accountId),
    index('conversation_mappings_state_idx').on(t.state),
  ],
);

/** Owner-issued single-use pairing codes (`XXXX-XXXX`). */
export const pairingCodes = relay.table(
  'pairing_codes',
  {
    code: text('code').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    expiresAt: at('expires_at').notNull(),
    usedAt: at('used_at'),
    /** The conversation key that used it. */
    usedBy: text('used_by'),
    metadata: jsonb('metadata'),
    createdAt: createdAt(),
  },
  (t) => [
    index('pairing_codes_account_idx').on(t.accountId),
    index('pairing_codes_expires_idx').on(t.expiresAt),
  ],
);

/** A Kakao message routed to an agent, and its life: queued → delivered → acked | expired. */
export const inboundMessages = relay.table(
  'inbound_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    conversationKey: text('conversation_key').notNull(),
    callbackUrl: text('callback_url'),
    callbackExpiresAt: at('callback_expires_at'),
    /** Set when a reply claimed the single-use callback URL. */
    callbackUsedAt: at('callback_used_at'),
    status: inboundMessageStatus('status').notNull().default('queued'),
    sourceEventId: text('source_event_id'),
    /** Seq of this message's event on the account topic: its SSE `id:`. */
    eventSeq: bigint('event_seq', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
    deliveredAt: at('delivered_at'),
    ackedAt: at('acked_at'),
    expiredAt: at('expired_at'),
  },
  (t) => [
    // Unique where set; it never is on the webhook's path, and a NULL entry would cost every
    // insert and status change of a message one more index write.
    uniqueIndex('inbound_messages_source_event_key')
      .on(t.sourceEventId)
      .where(sql`source_event_id is not null`),
    index('inbound_messages_account_seq_idx').on(t.accountId, t.eventSeq),
    index('inbound_messages_conversation_idx').on(t.conversationKey, t.createdAt),
    index('inbound_messages_created_idx').on(t.createdAt),
    // An account's queued messages in event order: a fresh stream's backlog and the long-poll's
    // claim read them with the order the index keeps, and never walk past the delivered messages
    // an agent has not answered yet (an index on status would list those too, and a delivered
    // mark would add an entry for each).
    index('inbound_messages_queued_idx')
      .on(t.accountId, t.eventSeq)
      .where(sql`status = 'queued'`),
  ],
);

/**
 * What Kakao sent, written once with its message and never changed. A message's status marks
 * rewrite its row, and a rewritten row is logged whole; kept apart, the payload is logged once.
 */
export const inboundMessageBodies = relay.table('inbound_message_bodies', {
  messageId: uuid('message_id')
    .primaryKey()
    .references(() => inboundMessages.id, { onDelete: 'cascade' }),
  /** The SkillPayload exactly as Kakao sent it. */
  kakaoPayload: jsonb('kakao_payload').notNull(),
  normalizedMessage: jsonb('normalized_message').notNull(),
});

/** A reply an agent sent back to Kakao through the callback URL. */
export const outboundMessages = relay.table(
  'outbound_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    inboundMessageId: uuid('inbound_message_id').references(() => inboundMessages.id, {
      onDelete: 'set null',
    }),
    conversationKey: text('conversation_key').notNull(),
    kakaoTarget: jsonb('kakao_target')
      .notNull()
      .default(sql`'{}'::jsonb`),
    responsePayload: jsonb('response_payload').notNull(),
    status: outboundMessageStatus('status').notNull().default('pending'),
    /** Kakao's `status` in its answer to the callback POST (SUCCESS, FAIL, ERROR). */
    kakaoStatus: text('kakao_status'),
    errorMessage: text('error_message'),
    createdAt: createdAt(),
    sentAt: at('sent_at'),
  },
  (t) => [
    index('outbound_messages_account_idx').on(t.accountId, t.createdAt),
    index('outbound_messages_inbound_idx').on(t.inboundMessageId),
    index('outbound_messages_conversation_idx').on(t.conversationKey, t.createdAt),
    index('outbound_messages_status_idx').on(t.status),
  ],
);

/** A plugin-created pairing session: token + code now, an account once a Kakao user pairs. */
export const sessions = relay.table(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** SHA-256 (hex) of the session token. */
    sessionTokenHash: text('session_token_hash').notNull(),
    pairingCode: text('pairing_code').notNull(),
    status: sessionStatus('status').notNull().default('pending_pairing'),
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'set null' }),
    pairedConversationKey: text('paired_conversation_key'),
    metadata: jsonb('metadata'),
    expiresAt: at('expires_at').notNull(),
    pairedAt: at('paired_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('sessions_token_hash_key').on(t.sessionTokenHash),
    uniqueIndex('sessions_pairing_code_key').on(t.pairingCode),
    index('sessions_status_expires_idx').on(t.status, t.expiresAt),
    index('sessions_account_idx').on(t.accountId),
  ],
);

/** People who own an account and manage it in the portal (email + argon2id password). */
export const portalUsers = relay.table(
  'portal_users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Lowercased. */
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    lastLoginAt: at('last_login_at'),
  },
  (t) => [
    uniqueIndex('portal_users_email_key').on(t.email),
    index('portal_users_account_idx').on(t.accountId),
  ],
);

/** Portal sign-ins: a user's session, or a read-only session opened with a `/code` access code. */
export const portalSessions = relay.table(
  'portal_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** HMAC-SHA256(PORTAL_SESSION_SECRET, token), hex. */
    tokenHash: text('token_hash').notNull(),
    userId: uuid('user_id').references(() => portalUsers.id, { onDelete: 'cascade' }),
    /** Set instead of `user_id` for access-code sessions: the one conversation they may read. */
    conversationKey: text('conversation_key'),
    expiresAt: at('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('portal_sessions_token_hash_key').on(t.tokenHash),
    index('portal_sessions_user_idx').on(t.userId),
    index('portal_sessions_expires_idx').on(t.expiresAt),
  ],
);

export const adminSessions = relay.table(
  'admin_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** HMAC-SHA256(ADMIN_SESSION_SECRET, token), hex. */
    tokenHash: text('token_hash').notNull(),
    expiresAt: at('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('admin_sessions_token_hash_key').on(t.tokenHash),
    index('admin_sessions_expires_idx').on(t.expiresAt),
  ],
);

/**
 * Single-use portal access codes a paired Kakao user gets with `/code`, stored as their HMAC
 * (`PORTAL_SESSION_SECRET`): the code itself is only ever shown to that user.
 */
export const portalAccessCodes = relay.table(
  'portal_access_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    conversationKey: text('conversation_key').notNull(),
    expiresAt: at('expires_at').notNull(),
    createdAt: createdAt(),
    usedAt: at('used_at'),
    lastAccessedAt: at('last_accessed_at'),
  },
  (t) => [
    index('portal_access_codes_open_idx')
      .on(t.conversationKey, t.expiresAt)
      .where(sql`used_at is null`),
  ],
);
