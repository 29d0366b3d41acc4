// The conversation a webhook call belongs to: its mapping row, created on first contact and
// refreshed on every call (last seen, and the newest callback URL Kakao gave it).
import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import { executeNamed, rowsOf, type Executor } from '../../store/index.js';
import type { ConversationRef } from '../pairing/index.js';
import type { conversationMappings } from '../schema.js';

export interface KakaoCallback {
  readonly url: string;
  readonly expiresAt: Date;
}

export interface Conversation extends ConversationRef {
  readonly state: (typeof conversationMappings.$inferSelect)['state'];
  readonly accountId: string | null;
  readonly pairedAt: Date | null;
  /** The paired account exists but an operator disabled it. */
  readonly accountDisabled: boolean;
}

/** Paired to an account that may receive messages. */
export function isConnected(conversation: Conversation): conversation is Conversation & {
  accountId: string;
} {
  return (
    conversation.state === 'paired' &&
    conversation.accountId !== null &&
    !conversation.accountDisabled
  );
}

/**
 * What refreshing a conversation writes (see `touchedConversationCtes`). A type, not an
 * interface, so that statements can add their own values to it and still bind it by name.
 */
export type TouchValues = {
  readonly conversationKey: string;
  readonly kakaoChannelId: string;
  readonly plusfriendUserKey: string;
  readonly callbackUrl: string | null;
  /** ISO 8601, or null without a callback. */
  readonly callbackExpiresAt: string | null;
  /** Without a callback the previous one is kept: it is still the newest usable one, if any. */
  readonly keepCallback: boolean;
  /** The time of the call, ISO 8601. */
  readonly at: string;
};

export function touchValues(
  ref: ConversationRef,
  callback: KakaoCallback | undefined,
  now: Date,
): TouchValues {
  return {
    conversationKey: ref.conversationKey,
    kakaoChannelId: ref.kakaoChannelId,
    plusfriendUserKey: ref.plusfriendUserKey,
    callbackUrl: callback?.url ?? null,
    callbackExpiresAt: callback?.expiresAt.toISOString() ?? null,
    keepCallback: callback === undefined,
    at: now.toISOString(),
  };
}

/**
 * The CTEs `touched` and `conversation`: the mapping upserted (first contact creates it
 * `unpaired`) and, in `conversation`, its `state`, `account_id`, `paired_at` and whether its
 * account is disabled (`account_disabled`). Takes the values or a statement template's
 * placeholders for them.
 */
export function touchedConversationCtes(v: {
  readonly [K in keyof TouchValues]: TouchValues[K] | Placeholder;
}): SQL {
  return sql`touched as (
      insert into relay.conversation_mappings as m (conversation_key, kakao_channel_id,
        plusfriend_user_key, last_callback_url, last_callback_expires_at, first_seen_at, last_seen_at)
      values (${v.conversationKey}::text, ${v.kakaoChannelId}::text, ${v.plusfriendUserKey}::text,
        ${v.callbackUrl}::text, ${v.callbackExpiresAt}::timestamptz, ${v.at}::timestamptz,
        ${v.at}::timestamptz)
      on conflict (conversation_key) do update set
        last_callback_url = case when ${v.keepCallback}::boolean then m.last_callback_url
          else excluded.last_callback_url end,
        last_callback_expires_at = case when ${v.keepCallback}::boolean
          then m.last_callback_expires_at else excluded.last_callback_expires_at end,
        last_seen_at = excluded.last_seen_at
      returning state, account_id, paired_at
    ), conversation as (
      select t.state, t.account_id, t.paired_at,
        t.account_id is not null and (a.id is null or a.disabled_at is not null) as account_disabled
      from touched t left join relay.accounts a on a.id = t.account_id
    )`;
}

/** The columns a statement selects from `conversation` for `conversationOf`. */
export const CONVERSATION_COLUMNS = sql.raw(
  'c.state, c.account_id::text as account_id, c.paired_at, c.account_disabled',
);

export interface ConversationRow {
  readonly state: Conversation['state'];
  readonly account_id: string | null;
  readonly paired_at: Date | string | null;
  readonly account_disabled: boolean;
}

/**
 * Fields named rather than spread from `ref`: V8 builds a spread copy with keys added after it
 * in the old generation, garbage that only a full collection frees, once per webhook here.
 */
export function conversationOf(ref: ConversationRef, row: ConversationRow): Conversation {
  return {
    conversationKey: ref.conversationKey,
    kakaoChannelId: ref.kakaoChannelId,
    plusfriendUserKey: ref.plusfriendUserKey,
    state: row.state,
    accountId: row.account_id,
    pairedAt: row.paired_at === null ? null : new Date(row.paired_at),
    accountDisabled: row.account_disabled,
  };
}

/** Upserts the mapping and reads its pairing and its account's state, in one statement. */
export async function touchConversation(
  db: Executor,
  ref: ConversationRef,
  callback: KakaoCallback | undefined,
  now: Date,
): Promise<Conversation> {
  const result = await executeNamed(
    db,
    'relay_touch',
    sql`with ${touchedConversationCtes(touchValues(ref, callback, now))}
    select ${CONVERSATION_COLUMNS} from conversation c`,
  );
  return conversationOf(ref, rowsOf<ConversationRow>(result)[0]!);
}
