// Removing someone from a channel (managers); removing yourself is leaving.
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { isUuid } from '../../ids.js';
import { retryingConflicts } from '../../messages/channel-transaction.js';
import { leaveChannel } from './leave-channel.js';
import { requireManagedChannel } from './manage-access.js';
import { removeMembers } from './membership.js';

export async function removeChannelMember(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  memberId: string,
): Promise<void> {
  if (memberId === userId) return leaveChannel(ctx, userId, channelId);
  const { channel } = await requireManagedChannel(ctx, userId, channelId, 'changed', {
    allowArchived: true,
  });
  if (!isUuid(memberId)) throw new AppError('not_found', 'No such member.');
  const { changed } = await retryingConflicts(() =>
    ctx.pipeline.transaction((tx, outbox) =>
      removeMembers(tx, outbox, channel, [memberId], userId),
    ),
  );
  if (changed.length === 0) throw new AppError('not_found', 'No such member.');
}
