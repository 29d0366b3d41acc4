// Moves a member's read marker in a channel. Forward only, unless marking unread; never past the
// newest message. The mention count is recomputed from the messages after the new marker, so it
// is 0 once caught up and cannot drift. Other devices follow through `read.updated` on the
// user's topic; DMs and small channels also get a `read` event (read receipts).
import { and, eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { channelEvent, userEvents } from '../../events/channel-events.js';
import { requireChannel } from '../../policies/channel-access.js';
import { channelMembers } from '../../schema.js';
import { READ_RECEIPTS_MAX_MEMBERS, type ChannelReadState } from '../presenters/read-state.js';
import { markChannelReadInput, type MarkChannelReadInput } from '../schemas.js';
import { retryingConflicts } from '../../messages/channel-transaction.js';
import { channelMentionCount, lockChannelForEvents, newestMessageSeq } from './unread-queries.js';

/** Whether a channel's members share read receipts. */
export const sharesReadReceipts = (channel: { kind: string; memberCount: number }): boolean =>
  channel.kind === 'dm' ||
  channel.kind === 'group_dm' ||
  channel.memberCount <= READ_RECEIPTS_MAX_MEMBERS;

export async function markChannelRead(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  body: unknown,
): Promise<ChannelReadState> {
  const input = markChannelReadInput.parse(body);
  // Commands of other areas may lock a member row before the channel's (leaving, say): the
  // database breaks such a deadlock by failing one side, and running it again succeeds.
  return retryingConflicts(() => markOnce(ctx, userId, channelId, input));
}

async function markOnce(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  input: MarkChannelReadInput,
): Promise<ChannelReadState> {
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const { channel } = await requireChannel({ db: tx }, userId, channelId, 'read');
    const receipts = sharesReadReceipts(channel);
    if (receipts) await lockChannelForEvents(tx, channelId);
    // Two devices reading at once: the row lock orders them, so the marker only moves forward.
    const [member] = await tx
      .select({
        lastReadSeq: channelMembers.lastReadSeq,
        mentionCount: channelMembers.mentionCount,
      })
      .from(channelMembers)
      .where(and(eq(channelMembers.channelId, channelId), eq(channelMembers.userId, userId)))
      .for('update');
    if (!member) throw new AppError('forbidden', 'Join the channel first.');
    const newest = await newestMessageSeq(tx, channelId);
    const lastReadSeq = input.unread
      ? Math.max(0, Math.min(input.seq - 1, newest))
      : Math.max(member.lastReadSeq, Math.min(input.seq, newest));
    const mentionCount = await channelMentionCount(tx, channelId, userId, lastReadSeq);
    const state = { channelId, lastReadSeq, mentionCount };
    if (lastReadSeq === member.lastReadSeq && mentionCount === member.mentionCount) return state;
    await tx
      .update(channelMembers)
      .set({ lastReadSeq, mentionCount })
      .where(and(eq(channelMembers.channelId, channelId), eq(channelMembers.userId, userId)));
    await userEvents(outbox, [userId], 'read.updated', state);
    if (lastReadSeq !== member.lastReadSeq && receipts) {
      await channelEvent(outbox, channelId, 'read', { userId, lastReadSeq });
    }
    return state;
  });
}
