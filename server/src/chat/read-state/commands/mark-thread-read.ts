// Moves a user's read marker in a thread (thread_follows). Threads keep their own marker and
// mention count: reading a channel never marks its threads read, nor the other way round.
// Reading a thread one does not follow keeps its marker without following it. The replies that
// name the user count toward the channel's mention count until the thread is read, so reading
// one recomputes the channel's count as well.
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { userEvents } from '../../events/channel-events.js';
import { isUuid } from '../../ids.js';
import { channelAccess } from '../../policies/channel-access.js';
import type { Transaction } from '../../../store/index.js';
import { lockChannel, retryingConflicts } from '../../messages/channel-transaction.js';
import { channelMembers, messages, threadFollows } from '../../schema.js';
import type { ChannelReadState, ThreadReadState } from '../presenters/read-state.js';
import { markThreadReadInput, type MarkThreadReadInput } from '../schemas.js';
import { channelMentionCount, newestReplySeq, threadMentionCount } from './unread-queries.js';

export async function markThreadRead(
  ctx: ChatContext,
  userId: string,
  messageId: string,
  body: unknown,
): Promise<ThreadReadState> {
  const input = markThreadReadInput.parse(body ?? {});
  if (!isUuid(messageId)) throw new AppError('not_found', 'No such message.');
  return retryingConflicts(() => markOnce(ctx, userId, messageId, input));
}

async function markOnce(
  ctx: ChatContext,
  userId: string,
  messageId: string,
  input: MarkThreadReadInput,
): Promise<ThreadReadState> {
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const [message] = await tx
      .select({ channelId: messages.channelId, threadRootId: messages.threadRootId })
      .from(messages)
      .where(eq(messages.id, messageId));
    if (!message) throw new AppError('not_found', 'No such message.');
    const { channelId } = message;
    const access = await channelAccess(tx, userId, channelId);
    if (!access?.canRead) throw new AppError('not_found', 'No such message.');
    // The channel's mention count changes too: its locks first, in the order a reply takes them.
    if (access.member) await lockChannel(tx, channelId);
    const rootId = message.threadRootId ?? messageId;
    const newest = await newestReplySeq(tx, rootId);
    const [follow] = await tx
      .select({ lastReadSeq: threadFollows.lastReadSeq, mentionCount: threadFollows.mentionCount })
      .from(threadFollows)
      .where(and(eq(threadFollows.rootId, rootId), eq(threadFollows.userId, userId)))
      .for('update');
    const lastReadSeq = Math.max(follow?.lastReadSeq ?? 0, Math.min(input.seq ?? newest, newest));
    const mentionCount = await threadMentionCount(tx, rootId, userId, lastReadSeq);
    const state = { channelId, threadRootId: rootId, lastReadSeq, mentionCount };
    if (follow?.lastReadSeq === lastReadSeq && follow.mentionCount === mentionCount) return state;
    await tx
      .insert(threadFollows)
      .values({ rootId, userId, following: false, lastReadSeq, mentionCount })
      .onConflictDoUpdate({
        target: [threadFollows.rootId, threadFollows.userId],
        set: { lastReadSeq, mentionCount, updatedAt: sql`now()` },
      });
    // The member row before the user's topic, as a channel read takes them.
    const channelState = access.member
      ? await recountChannelMentions(tx, channelId, userId)
      : undefined;
    await userEvents(outbox, [userId], 'read.updated', state);
    if (channelState) await userEvents(outbox, [userId], 'read.updated', { ...channelState });
    return state;
  });
}

/**
 * Mentions in a thread count toward the channel until the thread is read: the member's channel
 * count is recomputed; the new channel state is returned when it changed, for `read.updated`.
 */
async function recountChannelMentions(
  tx: Transaction,
  channelId: string,
  userId: string,
): Promise<ChannelReadState | undefined> {
  const where = and(eq(channelMembers.channelId, channelId), eq(channelMembers.userId, userId));
  const [member] = await tx
    .select({ lastReadSeq: channelMembers.lastReadSeq, mentionCount: channelMembers.mentionCount })
    .from(channelMembers)
    .where(where)
    .for('update');
  if (!member) return undefined;
  const mentionCount = await channelMentionCount(tx, channelId, userId, member.lastReadSeq);
  if (mentionCount === member.mentionCount) return undefined;
  await tx.update(channelMembers).set({ mentionCount }).where(where);
  return { channelId, lastReadSeq: member.lastReadSeq, mentionCount };
}
