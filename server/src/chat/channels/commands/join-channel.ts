// Joining a public channel; joining one you are in already changes nothing. Private channels
// and DMs are joined only by being added (they are 404 to everyone else).
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { retryingConflicts } from '../../messages/channel-transaction.js';
import { requireChannel } from '../../policies/channel-access.js';
import { presentMyChannel, type MyChannelView } from '../presenters/channel.js';
import { addMembers, membershipOf } from './membership.js';

export async function joinChannel(
  ctx: ChatContext,
  userId: string,
  channelId: string,
): Promise<MyChannelView> {
  const access = await requireChannel(ctx, userId, channelId);
  if (access.member) return presentMyChannel(access.channel, access.member);
  if (access.channel.archivedAt) throw new AppError('forbidden', 'This channel is archived.');
  return retryingConflicts(() =>
    ctx.pipeline.transaction(async (tx, outbox) => {
      const { channel } = await addMembers(tx, outbox, access.channel, [userId]);
      return presentMyChannel(channel, await membershipOf(tx, channel.id, userId));
    }),
  );
}
