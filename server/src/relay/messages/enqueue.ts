// A Kakao message for a paired conversation becomes, in one statement, a `message` event on its
// account's topic and the inbound_messages row that carries the event's seq: the agent's stream
// delivers the event (live or on resume from PostgreSQL) and the row tracks its life
// (queued → delivered → acked | expired) and its callback URL.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { OutboxRecord } from '../../pipeline/index.js';
import { executeNamed, rowsOf, type Executor } from '../../store/index.js';
import type { RelayContext } from '../context.js';
import { MESSAGE_EVENT, type MessageEventPayload, type NormalizedMessage } from '../events.js';
import { accountTopic } from '../topics.js';

export interface InboundMessage {
  readonly accountId: string;
  readonly conversationKey: string;
  /** The SkillPayload exactly as Kakao sent it. */
  readonly kakaoPayload: unknown;
  readonly normalized: NormalizedMessage;
  readonly callbackUrl: string | null;
  readonly callbackExpiresAt: Date | null;
}

export interface EnqueuedMessage {
  readonly id: string;
  readonly eventSeq: number;
  readonly createdAt: Date;
}

/** Thrown (and rolled back) when the caller stopped waiting before the commit. */
export class EnqueueAbandonedError extends Error {
  constructor() {
    super('the webhook answered before the message was queued');
    this.name = 'EnqueueAbandonedError';
  }
}

/**
 * Appends the message's event and writes its row, in one statement of the caller's transaction.
 * Give the record to `pipeline.afterCommit` once the transaction committed.
 */
export async function appendInboundMessage(
  ctx: Pick<RelayContext, 'pipeline' | 'now'>,
  tx: Executor,
  message: InboundMessage,
): Promise<{ queued: EnqueuedMessage; record: OutboxRecord }> {
  const id = randomUUID();
  const createdAt = new Date(ctx.now());
  const payload: MessageEventPayload = {
    id,
    conversationKey: message.conversationKey,
    kakaoPayload: message.kakaoPayload,
    normalized: message.normalized,
    createdAt: createdAt.toISOString(),
  };
  const result = await executeNamed(
    tx,
    'relay_enqueue',
    sql`
    with one as (select 1), ${ctx.pipeline.appendingCtes(
      { type: MESSAGE_EVENT, topic: accountTopic(message.accountId) },
      () => sql`${JSON.stringify(payload)}::jsonb`,
      'one',
    )}, inserted as (
      insert into relay.inbound_messages (id, account_id, conversation_key, kakao_payload,
        normalized_message, callback_url, callback_expires_at, status, event_seq, created_at)
      select ${id}, ${message.accountId}, ${message.conversationKey},
        ${JSON.stringify(message.kakaoPayload)}::jsonb, ${JSON.stringify(message.normalized)}::jsonb,
        ${message.callbackUrl}, ${message.callbackExpiresAt?.toISOString() ?? null}::timestamptz,
        'queued', s.last_seq, ${createdAt.toISOString()}::timestamptz
      from appended_seq s
    )
    select * from appended`,
  );
  const record = ctx.pipeline.recordOf(rowsOf(result)[0]);
  return { queued: { id, eventSeq: record.seq, createdAt }, record };
}
