// The checks every managing command shares: DMs have no managers, archived channels are
// frozen, and the general channel stays.
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { requireChannel, type ChannelAccess } from '../../policies/channel-access.js';
import { generalChannelOf, isDirectKind } from './membership.js';

export async function requireManagedChannel(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  what: string,
  options: { allowArchived?: boolean; notGeneral?: boolean } = {},
): Promise<ChannelAccess> {
  const access = await requireChannel(ctx, userId, channelId);
  const { channel } = access;
  if (isDirectKind(channel.kind)) {
    throw new AppError('forbidden', `Direct messages cannot be ${what}.`);
  }
  if (!access.canManage) {
    throw new AppError('forbidden', 'Only channel or workspace owners and admins may do this.');
  }
  if (channel.archivedAt && !options.allowArchived) {
    throw new AppError('forbidden', 'This channel is archived.');
  }
  if (
    options.notGeneral &&
    (await generalChannelOf(ctx.db, channel.workspaceId))?.id === channel.id
  ) {
    throw new AppError('forbidden', `The workspace's general channel cannot be ${what}.`);
  }
  return access;
}
