// A channel's pinned messages, most recently pinned first.
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { messages } from '../../schema.js';
import { decodeCursor, encodeCursor } from '../cursors.js';
import type { MessageView } from '../presenters/message.js';
import { viewMessages } from '../queries.js';
import { pageQuery, type PageQuery } from '../schemas.js';

export async function listPins(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  query: PageQuery,
): Promise<{ items: MessageView[]; nextCursor: string | null }> {
  const { cursor, limit } = pageQuery.parse(query);
  const { channel } = await requireChannel(ctx, userId, channelId, 'read');
  let after: { at: number; seq: number } | undefined;
  if (cursor) {
    const { at, seq } = decodeCursor(cursor, 'cursor');
    if (!Number.isSafeInteger(at) || !Number.isSafeInteger(seq)) {
      throw new AppError('invalid_request', 'cursor: not a cursor this server issued');
    }
    after = { at: at as number, seq: seq as number };
  }
  const rows = await ctx.db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.channelId, channel.id),
        isNotNull(messages.pinnedAt),
        after
          ? sql`(${messages.pinnedAt}, ${messages.seq}) < (${new Date(after.at).toISOString()}::timestamptz, ${after.seq})`
          : undefined,
      ),
    )
    .orderBy(desc(messages.pinnedAt), desc(messages.seq))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: await viewMessages(ctx.db, items, userId),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ at: last.pinnedAt!.getTime(), seq: last.seq })
        : null,
  };
}
