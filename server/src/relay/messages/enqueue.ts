// A Kakao message becomes, in one statement with the refresh of its conversation, a `message`
// event on the account's topic and the inbound_messages row that carries the event's seq, when
// the conversation is connected: the agent's stream delivers the event (live or on resume from
// PostgreSQL) and the row tracks its life (queued → delivered → acked | expired) and its callback
// URL, beside its body (what Kakao sent), which nothing changes. One statement is one round trip
// and its own transaction.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { OutboxRecord } from '../../pipeline/index.js';
import { rowsOf, statementTemplate, type Executor } from '../../store/index.js';
import type { RelayContext } from '../context.js';
import {
  MESSAGE_EVENT,
  messageEventJson,
  type MessageEventPayload,
  type NormalizedMessage,
} from '../events.js';
import {
  CONVERSATION_COLUMNS,
  conversationOf,
  touchedConversationCtes,
  touchValues,
  type Conversation,
  type ConversationRow,
  type KakaoCallback,
  type TouchValues,
} from '../kakao/conversation.js';
import type { ConversationRef } from '../pairing/index.js';
import { ACCOUNT_TOPIC_PREFIX } from '../topics.js';

export interface InboundMessage {
  readonly ref: ConversationRef;
  /** The SkillPayload exactly as Kakao sent it. */
  readonly kakaoPayload: unknown;
  readonly normalized: NormalizedMessage;
  readonly callback: KakaoCallback;
  /** When the webhook took it: the conversation's last sight and the message's creation. */
  readonly receivedAt: Date;
}

export interface EnqueuedMessage {
  readonly id: string;
  readonly eventSeq: number;
  readonly createdAt: Date;
}

/** Thrown, with nothing written, when the caller stopped waiting before the message was queued. */
export class EnqueueAbandonedError extends Error {
  constructor() {
    super('the webhook answered before the message was queued');
    this.name = 'EnqueueAbandonedError';
  }
}

interface QueueValues extends TouchValues, Record<string, unknown> {
  readonly id: string;
  /** JSON texts: the event's payload, Kakao's SkillPayload, the normalized message. */
  readonly payload: string;
  readonly kakaoPayload: string;
  readonly normalized: string;
}

const queueStatement = statementTemplate<RelayContext['pipeline'], QueueValues>(
  'relay_queue',
  (pipeline, v) => sql`
    with ${touchedConversationCtes(v)}, connected as (
      -- isConnected, in SQL
      select account_id from conversation
      where state = 'paired' and account_id is not null and not account_disabled
    ), ${pipeline.appendingCtes(
      {
        type: MESSAGE_EVENT,
        topic: { prefix: ACCOUNT_TOPIC_PREFIX, rest: sql`connected.account_id::text` },
      },
      () => sql`${v.payload}::jsonb`,
      'connected',
    )}, inserted as (
      insert into relay.inbound_messages (id, account_id, conversation_key, callback_url,
        callback_expires_at, status, event_seq, created_at)
      select ${v.id}::uuid, k.account_id, ${v.conversationKey}::text, ${v.callbackUrl}::text,
        ${v.callbackExpiresAt}::timestamptz, 'queued', s.last_seq, ${v.at}::timestamptz
      from appended_seq s cross join connected k
      returning id
    ), inserted_body as (
      insert into relay.inbound_message_bodies (message_id, kakao_payload, normalized_message)
      select id, ${v.kakaoPayload}::jsonb, ${v.normalized}::jsonb from inserted
    )
    select ${CONVERSATION_COLUMNS}, a.* from conversation c left join appended a on true`,
);

/**
 * Refreshes the conversation (as `touchConversation` does) and, when it is connected, appends the
 * message's event and writes its row, all in one statement. `queued` is there when the message
 * was queued: give its record to `pipeline.afterCommit`.
 */
export async function queueIfConnected(
  ctx: Pick<RelayContext, 'pipeline'>,
  db: Executor,
  message: InboundMessage,
): Promise<{
  conversation: Conversation;
  queued?: { message: EnqueuedMessage; record: OutboxRecord };
}> {
  const id = randomUUID();
  const { ref, callback, receivedAt: createdAt } = message;
  const payload = {
    id,
    conversationKey: ref.conversationKey,
    kakaoPayload: message.kakaoPayload,
    normalized: message.normalized,
    createdAt: createdAt.toISOString(),
  } satisfies MessageEventPayload;
  // Each part is serialized once: the body columns and the event's payload share the texts.
  const kakaoPayload = JSON.stringify(message.kakaoPayload);
  const normalized = JSON.stringify(message.normalized);
  const payloadJson = messageEventJson(payload, kakaoPayload, normalized);
  // Added to the touch values' own object rather than spread into a new one: this runs once per
  // webhook, and spread copies on it were allocated in the old generation.
  const result = await queueStatement(
    ctx.pipeline,
    db,
    Object.assign(touchValues(ref, callback, createdAt), {
      id,
      payload: payloadJson,
      kakaoPayload,
      normalized,
    }),
  );
  const row = rowsOf<ConversationRow & { id: string | null }>(result)[0]!;
  const conversation = conversationOf(ref, row);
  if (row.id === null) return { conversation };
  const record = ctx.pipeline.recordOf(row, payload, payloadJson);
  return { conversation, queued: { message: { id, eventSeq: record.seq, createdAt }, record } };
}
