// The inbound-message reads of agent delivery: a fresh stream's backlog, the gap a resync leaves,
// the messages a resume must not repeat, and the long-poll's atomic claim.
import { and, asc, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { encodeOutboxEvent } from '../../pipeline/index.js';
import { rowsOf } from '../../store/index.js';
import type { RelayContext } from '../context.js';
import { MESSAGE_EVENT, type MessageEventPayload, type NormalizedMessage } from '../events.js';
import { selectInboundRows, type InboundRow } from '../messages/inbound-rows.js';
import { inboundMessages } from '../schema.js';

export type { InboundRow };

/** The newest seq of a durable topic (0 before its first event). */
export async function topicHead(ctx: RelayContext, topic: string): Promise<number> {
  // Past the head: the page is empty and only the head is read.
  const page = await ctx.pipeline.durableTopics.read(topic, Number.MAX_SAFE_INTEGER, 1);
  return page.latestSeq;
}

/** The `message` event of a row, exactly as the outbox published it. */
export function messageEventData(row: InboundRow): string {
  const payload: MessageEventPayload = {
    id: row.id,
    conversationKey: row.conversationKey,
    kakaoPayload: row.kakaoPayload,
    normalized: row.normalizedMessage as NormalizedMessage,
    createdAt: row.createdAt.toISOString(),
  };
  return encodeOutboxEvent(MESSAGE_EVENT, payload);
}

/** Messages still `queued` whose event is at or before `head`, oldest first. */
export function queuedUpTo(ctx: RelayContext, accountId: string, head: number) {
  return selectInboundRows(ctx.db)
    .where(
      and(
        eq(inboundMessages.accountId, accountId),
        eq(inboundMessages.status, 'queued'),
        lte(inboundMessages.eventSeq, head),
      ),
    )
    .orderBy(asc(inboundMessages.eventSeq));
}

/** Messages not yet acked or expired with an event in (after, upTo], oldest first. */
export function openBetween(ctx: RelayContext, accountId: string, after: number, upTo: number) {
  return selectInboundRows(ctx.db)
    .where(
      and(
        eq(inboundMessages.accountId, accountId),
        inArray(inboundMessages.status, ['queued', 'delivered']),
        gt(inboundMessages.eventSeq, after),
        lte(inboundMessages.eventSeq, upTo),
      ),
    )
    .orderBy(asc(inboundMessages.eventSeq));
}

/** Ids of messages acked or expired with an event in (after, upTo]: a resume skips them. */
export async function closedBetween(
  ctx: RelayContext,
  accountId: string,
  after: number,
  upTo: number,
): Promise<Set<string>> {
  if (upTo <= after) return new Set();
  const rows = await ctx.db
    .select({ id: inboundMessages.id })
    .from(inboundMessages)
    .where(
      and(
        eq(inboundMessages.accountId, accountId),
        inArray(inboundMessages.status, ['acked', 'expired']),
        gt(inboundMessages.eventSeq, after),
        lte(inboundMessages.eventSeq, upTo),
      ),
    );
  return new Set(rows.map((r) => r.id));
}

interface ClaimedRow {
  id: string;
  conversation_key: string;
  kakao_payload: unknown;
  normalized_message: unknown;
  callback_url: string | null;
  callback_expires_at: string | Date | null;
  created_at: string | Date;
  event_seq: string | number;
}

export interface ClaimedMessage {
  readonly id: string;
  readonly conversationKey: string;
  readonly kakaoPayload: unknown;
  readonly normalized: unknown;
  readonly callbackUrl: string | null;
  readonly callbackExpiresAt: Date | null;
  readonly createdAt: Date;
  readonly eventSeq: number;
}

const asDate = (value: string | Date) => (value instanceof Date ? value : new Date(value));

/** The long-poll's claim: marks up to `limit` queued messages delivered and returns them. */
export function claimQueuedStatement(accountId: string, limit: number, at: Date): SQL {
  return sql`
    with claimed as (
      update relay.inbound_messages set status = 'delivered', delivered_at = ${at}
      where id in (
        select id from relay.inbound_messages
        where account_id = ${accountId} and status = 'queued'
        order by event_seq
        limit ${limit}
        for update skip locked
      )
      returning id, conversation_key, callback_url, callback_expires_at, created_at, event_seq
    )
    select c.*, b.kakao_payload, b.normalized_message
    from claimed c join relay.inbound_message_bodies b on b.message_id = c.id`;
}

/**
 * Takes up to `limit` queued messages of the account, oldest first, and marks them delivered in
 * the same statement: two pollers of one account never get the same message.
 */
export async function claimQueued(
  ctx: RelayContext,
  accountId: string,
  limit: number,
): Promise<ClaimedMessage[]> {
  const result = await ctx.db.execute(claimQueuedStatement(accountId, limit, new Date(ctx.now())));
  return rowsOf<ClaimedRow>(result)
    .map((r) => ({
      id: r.id,
      conversationKey: r.conversation_key,
      kakaoPayload: r.kakao_payload,
      normalized: r.normalized_message,
      callbackUrl: r.callback_url,
      callbackExpiresAt: r.callback_expires_at === null ? null : asDate(r.callback_expires_at),
      createdAt: asDate(r.created_at),
      eventSeq: Number(r.event_seq),
    }))
    .sort((a, b) => a.eventSeq - b.eventSeq);
}

/** True while the account has a queued message. */
export async function hasQueued(ctx: RelayContext, accountId: string): Promise<boolean> {
  const rows = await ctx.db
    .select({ id: inboundMessages.id })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.accountId, accountId), eq(inboundMessages.status, 'queued')))
    .limit(1);
  return rows.length > 0;
}
