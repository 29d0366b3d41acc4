// Adding workspace members to a channel: any member may add people to a public channel, only
// managers to a private one; DMs keep the member set they were opened with.
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { retryingConflicts } from '../../messages/channel-transaction.js';
import { requireChannel } from '../../policies/channel-access.js';
import { presentMyChannel, type MyChannelView } from '../presenters/channel.js';
import { addMembersInput } from '../schemas.js';
import { addMembers, isDirectKind, notWorkspaceMembers } from './membership.js';

export interface AddedMembers {
  channel: MyChannelView;
  /** Those who were not members before. */
  addedUserIds: string[];
}

export async function addChannelMembers(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  input: unknown,
): Promise<AddedMembers> {
  const access = await requireChannel(ctx, userId, channelId);
  const { channel } = access;
  if (isDirectKind(channel.kind)) {
    throw new AppError('forbidden', 'A DM keeps its members; open a DM with everyone instead.');
  }
  const allowed = channel.kind === 'public' ? access.member || access.canManage : access.canManage;
  if (!allowed) {
    throw new AppError(
      'forbidden',
      channel.kind === 'public'
        ? 'Join the channel first.'
        : 'Only channel or workspace owners and admins may add people to a private channel.',
    );
  }
  if (channel.archivedAt) throw new AppError('forbidden', 'This channel is archived.');
  const userIds = [...new Set(addMembersInput.parse(input).userIds)];
  const strangers = await notWorkspaceMembers(ctx.db, channel.workspaceId, userIds);
  if (strangers.length > 0) {
    throw new AppError(
      'invalid_request',
      `userIds: ${strangers.join(', ')} ${strangers.length === 1 ? 'is' : 'are'} not in this workspace.`,
    );
  }
  return retryingConflicts(() =>
    ctx.pipeline.transaction(async (tx, outbox) => {
      const change = await addMembers(tx, outbox, channel, userIds, userId);
      return {
        channel: presentMyChannel(change.channel, access.member),
        addedUserIds: change.changed,
      };
    }),
  );
}
