// Leaving a channel. Anyone may leave a public or private channel, its last owner included
// (workspace admins still manage it); nobody leaves a DM.
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { retryingConflicts } from '../../messages/channel-transaction.js';
import { requireChannel } from '../../policies/channel-access.js';
import { isDirectKind, removeMembers } from './membership.js';

export async function leaveChannel(
  ctx: ChatContext,
  userId: string,
  channelId: string,
): Promise<void> {
  const access = await requireChannel(ctx, userId, channelId);
  if (isDirectKind(access.channel.kind)) {
    throw new AppError('forbidden', 'You cannot leave a direct message.');
  }
  if (!access.member) return;
  await retryingConflicts(() =>
    ctx.pipeline.transaction((tx, outbox) => removeMembers(tx, outbox, access.channel, [userId])),
  );
}
