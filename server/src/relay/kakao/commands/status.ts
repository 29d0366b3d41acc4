// `/status`: whether the conversation is connected, with today's and all-time message counts of
// its current pairing. "Today" and the pairing time are Korean time, what the users live in.
import { and, count, eq, sql, type SQL } from 'drizzle-orm';
import type { RelayContext } from '../../context.js';
import { inboundMessages, outboundMessages } from '../../schema.js';
import { isConnected, type Conversation } from '../conversation.js';
import {
  STATUS_NOT_PAIRED,
  statusPaired,
  UNKNOWN_TIME,
  type ConversationStats,
} from '../replies.js';

// Korea has kept UTC+9 without daylight saving time since 1988.
const KST_OFFSET_MS = 9 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** `YYYY-MM-DD HH:MM:SS` in Korean time. */
export function formatKoreanTime(time: Date): string {
  return new Date(time.getTime() + KST_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** Midnight of the Korean calendar day `nowMs` falls in. */
export function startOfKoreanDay(nowMs: number): Date {
  return new Date(Math.floor((nowMs + KST_OFFSET_MS) / DAY_MS) * DAY_MS - KST_OFFSET_MS);
}

export async function statusCommand(
  ctx: RelayContext,
  conversation: Conversation,
): Promise<string> {
  if (!isConnected(conversation)) return STATUS_NOT_PAIRED;
  const stats = await conversationStats(
    ctx,
    conversation.conversationKey,
    conversation.accountId,
    startOfKoreanDay(ctx.now()),
  );
  const pairedAt = conversation.pairedAt ? formatKoreanTime(conversation.pairedAt) : UNKNOWN_TIME;
  return statusPaired(stats, pairedAt);
}

const countWhere = (condition: SQL) =>
  sql<number>`count(*) filter (where ${condition})`.mapWith(Number);

async function conversationStats(
  ctx: RelayContext,
  conversationKey: string,
  accountId: string,
  todayStart: Date,
): Promise<ConversationStats> {
  const [inbound] = await ctx.db
    .select({
      total: count(),
      today: countWhere(sql`${inboundMessages.createdAt} >= ${todayStart}`),
    })
    .from(inboundMessages)
    .where(
      and(
        eq(inboundMessages.conversationKey, conversationKey),
        eq(inboundMessages.accountId, accountId),
      ),
    );
  const [outbound] = await ctx.db
    .select({
      total: count(),
      today: countWhere(sql`${outboundMessages.createdAt} >= ${todayStart}`),
      failedToday: countWhere(
        sql`${outboundMessages.createdAt} >= ${todayStart} and ${outboundMessages.status} = 'failed'`,
      ),
    })
    .from(outboundMessages)
    .where(
      and(
        eq(outboundMessages.conversationKey, conversationKey),
        eq(outboundMessages.accountId, accountId),
      ),
    );
  return {
    inboundToday: inbound?.today ?? 0,
    inboundTotal: inbound?.total ?? 0,
    outboundToday: outbound?.today ?? 0,
    failedToday: outbound?.failedToday ?? 0,
    outboundTotal: outbound?.total ?? 0,
  };
}
