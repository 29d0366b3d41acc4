// Moves a user's read marker in a thread (thread_follows). Threads keep their own marker and
// mention count: reading a channel never marks its threads read, nor the other way round.
// Reading a thread one does not follow keeps its marker without following it.
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { userEvents } from '../../events/channel-events.js';
import { isUuid } from '../../ids.js';
import { channelAccess } from '../../policies/channel-access.js';
import { messages, threadFollows } from '../../schema.js';
import type { ThreadReadState } from '../presenters/read-state.js';
import { markThreadReadInput } from '../schemas.js';
import { newestReplySeq, threadMentionCount } from './unread-queries.js';

export async function markThreadRead(
  ctx: ChatContext,
  userId: string,
  messageId: string,
  body: unknown,
): Promise<ThreadReadState> {
  const input = markThreadReadInput.parse(body ?? {});
  if (!isUuid(messageId)) throw new AppError('not_found', 'No such message.');
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const [message] = await tx
      .select({ channelId: messages.channelId, threadRootId: messages.threadRootId })
      .from(messages)
      .where(eq(messages.id, messageId));
    if (!message) throw new AppError('not_found', 'No such message.');
    const access = await channelAccess(tx, userId, message.channelId);
    if (!access?.canRead) throw new AppError('not_found', 'No such message.');
    const rootId = message.threadRootId ?? messageId;
    const newest = await newestReplySeq(tx, rootId);
    const [follow] = await tx
      .select({ lastReadSeq: threadFollows.lastReadSeq, mentionCount: threadFollows.mentionCount })
      .from(threadFollows)
      .where(and(eq(threadFollows.rootId, rootId), eq(threadFollows.userId, userId)))
      .for('update');
    const lastReadSeq = Math.max(follow?.lastReadSeq ?? 0, Math.min(input.seq ?? newest, newest));
    const mentionCount = await threadMentionCount(tx, rootId, userId, lastReadSeq);
    const state = { channelId: message.channelId, threadRootId: rootId, lastReadSeq, mentionCount };
    if (follow?.lastReadSeq === lastReadSeq && follow.mentionCount === mentionCount) return state;
    await tx
      .insert(threadFollows)
      .values({ rootId, userId, following: false, lastReadSeq, mentionCount })
      .onConflictDoUpdate({
        target: [threadFollows.rootId, threadFollows.userId],
        set: { lastReadSeq, mentionCount, updatedAt: sql`now()` },
      });
    await userEvents(outbox, [userId], 'read.updated', state);
    return state;
  });
}
