// A channel's threads (roots with replies), most recent reply first, each with whether the
// caller follows it.
import { and, desc, eq, gt, lt } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { messages, threadFollows } from '../../schema.js';
import { decodeCursor, encodeCursor } from '../cursors.js';
import type { MessageView } from '../presenters/message.js';
import { viewMessages } from '../queries.js';
import { pageQuery, type PageQuery } from '../schemas.js';

export type ThreadView = MessageView & { following: boolean };

export async function listThreads(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  query: PageQuery,
): Promise<{ items: ThreadView[]; nextCursor: string | null }> {
  const { cursor, limit } = pageQuery.parse(query);
  const { channel } = await requireChannel(ctx, userId, channelId, 'read');
  let below: number | undefined;
  if (cursor) {
    const { seq } = decodeCursor(cursor, 'cursor');
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) {
      throw new AppError('invalid_request', 'cursor: not a cursor this server issued');
    }
    below = seq;
  }
  // Seqs are unique in a channel, so the last reply's seq orders threads without ties.
  const rows = await ctx.db
    .select({ message: messages, following: threadFollows.following })
    .from(messages)
    .leftJoin(
      threadFollows,
      and(eq(threadFollows.rootId, messages.id), eq(threadFollows.userId, userId)),
    )
    .where(
      and(
        eq(messages.channelId, channel.id),
        gt(messages.replyCount, 0),
        below === undefined ? undefined : lt(messages.lastReplySeq, below),
      ),
    )
    .orderBy(desc(messages.lastReplySeq))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const views = await viewMessages(
    ctx.db,
    page.map((r) => r.message),
    userId,
  );
  const last = page.at(-1)?.message;
  return {
    items: views.map((view, i) => ({ ...view, following: page[i]!.following ?? false })),
    nextCursor: rows.length > limit && last ? encodeCursor({ seq: last.lastReplySeq ?? 0 }) : null,
  };
}
