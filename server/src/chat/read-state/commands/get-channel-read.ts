// A member's read state in one channel, with the unread count computed from the messages.
import { and, eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { channelMembers } from '../../schema.js';
import type { ChannelReadSummary } from '../presenters/read-state.js';
import { unreadCount } from './unread-queries.js';

export async function getChannelRead(
  ctx: ChatContext,
  userId: string,
  channelId: string,
): Promise<ChannelReadSummary> {
  await requireChannel(ctx, userId, channelId, 'read');
  const [member] = await ctx.db
    .select({ lastReadSeq: channelMembers.lastReadSeq, mentionCount: channelMembers.mentionCount })
    .from(channelMembers)
    .where(and(eq(channelMembers.channelId, channelId), eq(channelMembers.userId, userId)));
  if (!member) throw new AppError('forbidden', 'Join the channel first.');
  const unread = await unreadCount(ctx.db, channelId, userId, member.lastReadSeq);
  return {
    channelId,
    lastReadSeq: member.lastReadSeq,
    mentionCount: member.mentionCount,
    unreadCount: unread,
    unread: unread > 0,
  };
}
