// The `chat` PostgreSQL schema: accounts, workspaces, channels (DMs are channels), members with
// read state, messages with threads, reactions and pins, and idempotency records.
//
// Every change inside a channel is an outbox event on the topic `chat.channel.<id>` and takes
// the next seq of that topic (core.topic_seqs) in the same transaction; a message keeps the seq
// of its `message.created` event, so read state and pagination speak the same numbers as
// realtime resume.
import { sql, type SQL } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const chat = pgSchema('chat');

/**
 * The full-text document of a message body: `chat.message_search_document(body)`, an immutable
 * SQL function (migration 0004) so the index and every query spell it the same way. It uses the
 * `simple` config (no stemming, any language) over the words as written plus their camelCase
 * pieces, so `parseHttpRequest` is found by `http`; the parser itself splits snake_case, paths
 * and URLs.
 */
export const messageSearchDocument = (body: AnyPgColumn | SQL) =>
  sql`chat.message_search_document(${body})`;

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const users = chat.table(
  'users',
  {
    id: uuid('id').primaryKey(),
    /** Lowercased; null for accounts that only sign in through an external identity provider. */
    email: text('email'),
    /** The @handle, lowercased, unique. */
    username: text('username').notNull(),
    displayName: text('display_name').notNull(),
    avatarUrl: text('avatar_url'),
    /** argon2id; null when the account cannot sign in with a password. */
    passwordHash: text('password_hash'),
    /** `iss|sub` of an externally issued token this account belongs to. */
    externalSubject: text('external_subject'),
    statusMessage: text('status_message'),
    customStatusEmoji: text('custom_status_emoji'),
    customStatusText: text('custom_status_text'),
    customStatusExpiresAt: timestamp('custom_status_expires_at', { withTimezone: true }),
    notificationSettings: jsonb('notification_settings')
      .notNull()
      .default(sql`'{}'::jsonb`),
    theme: text('theme').notNull().default('system'),
    isBot: boolean('is_bot').notNull().default(false),
    failedLogins: integer('failed_logins').notNull().default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('users_email_key').on(t.email),
    uniqueIndex('users_username_key').on(t.username),
    uniqueIndex('users_external_subject_key').on(t.externalSubject),
  ],
);

/**
 * Rotating refresh tokens. Each use marks the row used and issues a successor in the same
 * family; presenting a used token again means it leaked, and the whole family is revoked.
 */
export const refreshTokens = chat.table(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull(),
    familyId: uuid('family_id').notNull(),
    /** SHA-256 of the token: tokens are 256-bit random, so a slow hash buys nothing. */
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    userAgent: text('user_agent'),
    ip: text('ip'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_key').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
    index('refresh_tokens_expires_idx').on(t.expiresAt),
  ],
);

export const workspaces = chat.table(
  'workspaces',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    /** URL name, lowercased, unique. */
    slug: text('slug').notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('workspaces_slug_key').on(t.slug)],
);

export const workspaceMembers = chat.table(
  'workspace_members',
  {
    workspaceId: uuid('workspace_id').notNull(),
    userId: uuid('user_id').notNull(),
    /** owner | admin | member */
    role: text('role').notNull(),
    joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.userId] }),
    index('workspace_members_user_idx').on(t.userId),
  ],
);

export const workspaceInvites = chat.table(
  'workspace_invites',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    /** SHA-256 of the invite code; the code itself is shown once. */
    codeHash: text('code_hash').notNull(),
    /** When set, only this (lowercased) email may accept. */
    email: text('email'),
    role: text('role').notNull().default('member'),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    maxUses: integer('max_uses').notNull().default(1),
    uses: integer('uses').notNull().default(0),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('workspace_invites_code_key').on(t.codeHash),
    index('workspace_invites_workspace_idx').on(t.workspaceId),
  ],
);

export const channels = chat.table(
  'channels',
  {
    id: uuid('id').primaryKey(),
    workspaceId: uuid('workspace_id').notNull(),
    /** public | private | dm | group_dm */
    kind: text('kind').notNull(),
    /** Unique per workspace among live named channels; null for DMs. */
    name: text('name'),
    topic: text('topic').notNull().default(''),
    purpose: text('purpose').notNull().default(''),
    /** DMs: the sorted member ids, so the same member set always finds the same DM. */
    dmKey: text('dm_key'),
    createdBy: uuid('created_by').notNull(),
    memberCount: integer('member_count').notNull().default(0),
    /** Seq of the newest root message (not replies): a member is unread below it. */
    lastMessageSeq: bigint('last_message_seq', { mode: 'number' }).notNull().default(0),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('channels_workspace_name_key')
      .on(t.workspaceId, sql`lower(${t.name})`)
      .where(sql`${t.name} is not null and ${t.deletedAt} is null`),
    uniqueIndex('channels_dm_key').on(t.workspaceId, t.dmKey),
    index('channels_workspace_idx').on(t.workspaceId, t.kind),
  ],
);

export const channelMembers = chat.table(
  'channel_members',
  {
    channelId: uuid('channel_id').notNull(),
    userId: uuid('user_id').notNull(),
    /** owner | admin | member (channel-level; workspace admins may act as channel admins). */
    role: text('role').notNull().default('member'),
    /** Seq of the newest message this member has read. */
    lastReadSeq: bigint('last_read_seq', { mode: 'number' }).notNull().default(0),
    /** Unread mentions of this member (user mentions, @channel, @here). */
    mentionCount: integer('mention_count').notNull().default(0),
    muted: boolean('muted').notNull().default(false),
    /** all | mentions | none */
    notifyLevel: text('notify_level').notNull().default('all'),
    joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.channelId, t.userId] }),
    index('channel_members_user_idx').on(t.userId),
  ],
);

export const messages = chat.table(
  'messages',
  {
    id: uuid('id').primaryKey(),
    channelId: uuid('channel_id').notNull(),
    /** Seq of its `message.created` event on the channel topic. */
    seq: bigint('seq', { mode: 'number' }).notNull(),
    authorId: uuid('author_id').notNull(),
    /** Set on replies: the root message of the thread. */
    threadRootId: uuid('thread_root_id'),
    /** Markdown source, kept as written; rendering is the client's job. */
    body: text('body').notNull(),
    mentionUserIds: uuid('mention_user_ids')
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    mentionsChannel: boolean('mentions_channel').notNull().default(false),
    mentionsHere: boolean('mentions_here').notNull().default(false),
    /** The sender's own id for the message; a retry with the same one finds the first. */
    clientMsgId: text('client_msg_id'),
    replyCount: integer('reply_count').notNull().default(0),
    lastReplySeq: bigint('last_reply_seq', { mode: 'number' }),
    lastReplyAt: timestamp('last_reply_at', { withTimezone: true }),
    threadParticipantIds: uuid('thread_participant_ids')
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    pinnedAt: timestamp('pinned_at', { withTimezone: true }),
    pinnedBy: uuid('pinned_by'),
    editedAt: timestamp('edited_at', { withTimezone: true }),
    /** Tombstone: the body is cleared and the row stays so seqs and threads stay whole. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('messages_channel_seq_key').on(t.channelId, t.seq),
    uniqueIndex('messages_client_msg_key').on(t.channelId, t.authorId, t.clientMsgId),
    index('messages_thread_idx').on(t.threadRootId, t.seq),
    index('messages_author_idx').on(t.authorId, t.createdAt),
    index('messages_pinned_idx')
      .on(t.channelId, t.pinnedAt)
      .where(sql`${t.pinnedAt} is not null`),
    // Search (chat/search): words through full text, substrings (CJK, identifiers, URLs) through
    // trigrams. Queries must repeat `messageSearchDocument` exactly for the planner to use it.
    index('messages_search_idx').using('gin', messageSearchDocument(t.body)),
    index('messages_body_trgm_idx').using('gin', t.body.op('gin_trgm_ops')),
  ],
);

export const reactions = chat.table(
  'reactions',
  {
    messageId: uuid('message_id').notNull(),
    userId: uuid('user_id').notNull(),
    /** A Unicode emoji or a `:shortcode:`. */
    emoji: text('emoji').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.emoji, t.userId] })],
);

/** Who follows a thread and how far they have read it (authors, repliers, mentioned, opted in). */
export const threadFollows = chat.table(
  'thread_follows',
  {
    rootId: uuid('root_id').notNull(),
    userId: uuid('user_id').notNull(),
    following: boolean('following').notNull().default(true),
    lastReadSeq: bigint('last_read_seq', { mode: 'number' }).notNull().default(0),
    mentionCount: integer('mention_count').notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.rootId, t.userId] }),
    index('thread_follows_user_idx').on(t.userId),
  ],
);

/** Responses of POSTs sent with an Idempotency-Key, kept for a day. */
export const idempotencyKeys = chat.table(
  'idempotency_keys',
  {
    userId: uuid('user_id').notNull(),
    key: text('key').notNull(),
    /** SHA-256 of method, route and body: the same key with another request is refused. */
    requestHash: text('request_hash').notNull(),
    status: integer('status'),
    response: jsonb('response'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);
