// Creating a public or private channel in a workspace (any member); the creator owns it.
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { presentMyChannel, type MyChannelView } from '../presenters/channel.js';
import { createChannelInput } from '../schemas.js';
import { insertChannel, membershipOf, notWorkspaceMembers } from './membership.js';
import { uniqueViolation } from '../../../store/index.js';

export const NAME_TAKEN_CONSTRAINT = 'channels_workspace_name_key';

export async function createChannel(
  ctx: ChatContext,
  userId: string,
  workspaceId: string,
  input: unknown,
): Promise<MyChannelView> {
  await requireWorkspaceRole(ctx, userId, workspaceId);
  const { name, kind, topic, purpose, memberIds } = createChannelInput.parse(input);
  const others = [...new Set(memberIds)].filter((id) => id !== userId);
  const strangers = await notWorkspaceMembers(ctx.db, workspaceId, others);
  if (strangers.length > 0) {
    throw new AppError(
      'invalid_request',
      `memberIds: ${strangers.join(', ')} ${strangers.length === 1 ? 'is' : 'are'} not in this workspace.`,
    );
  }
  try {
    return await ctx.pipeline.transaction(async (tx, outbox) => {
      const channel = await insertChannel(
        tx,
        outbox,
        {
          workspaceId,
          kind,
          name,
          ...(topic === undefined ? {} : { topic }),
          ...(purpose === undefined ? {} : { purpose }),
          createdBy: userId,
        },
        others,
      );
      return presentMyChannel(channel!, await membershipOf(tx, channel!.id, userId));
    });
  } catch (err) {
    if (uniqueViolation(err) === NAME_TAKEN_CONSTRAINT) {
      throw new AppError('conflict', `A channel named "${name}" exists already.`);
    }
    throw err;
  }
}
