// Opening a DM: the channel of exactly this set of people in the workspace, found or created.
// The set's sorted ids are its dm_key (unique per workspace), so concurrent opens of the same
// set end with one channel: the insert that loses the race does nothing and finds the winner's.
import { and, eq, isNull } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import {
  addMembers,
  insertChannel,
  notWorkspaceMembers,
} from '../../channels/commands/membership.js';
import type { ChatContext } from '../../context.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { channelMembers, channels } from '../../schema.js';
import type { DmView } from '../presenters/dm.js';
import { openDmInput } from '../schemas.js';
import { getDm } from './get-dm.js';

export interface OpenedDm {
  dm: DmView;
  created: boolean;
}

export async function openDm(ctx: ChatContext, userId: string, input: unknown): Promise<OpenedDm> {
  const { workspaceId, userIds } = openDmInput.parse(input);
  await requireWorkspaceRole(ctx, userId, workspaceId);
  const others = [...new Set(userIds)].filter((id) => id !== userId);
  if (others.length === 0) {
    throw new AppError('invalid_request', 'userIds: name at least one other person.');
  }
  // Someone outside the workspace is nobody the caller may know of.
  if ((await notWorkspaceMembers(ctx.db, workspaceId, others)).length > 0) {
    throw new AppError('not_found', 'No such user in this workspace.');
  }
  const memberIds = [userId, ...others].sort();
  const dmKey = memberIds.join(',');
  const findExisting = async () => {
    const [row] = await ctx.db
      .select()
      .from(channels)
      .where(
        and(
          eq(channels.workspaceId, workspaceId),
          eq(channels.dmKey, dmKey),
          isNull(channels.deletedAt),
        ),
      );
    return row;
  };

  let created = false;
  let channel = await findExisting();
  if (!channel) {
    const inserted = await ctx.pipeline.transaction((tx, outbox) =>
      insertChannel(
        tx,
        outbox,
        {
          workspaceId,
          kind: memberIds.length === 2 ? 'dm' : 'group_dm',
          name: null,
          dmKey,
          createdBy: userId,
        },
        others,
      ),
    );
    created = inserted !== undefined;
    channel = inserted ?? (await findExisting());
    if (!channel) throw new AppError('not_found', 'No such DM.');
  } else {
    // Someone who left the workspace and came back gets their place in it again.
    const present = await ctx.db
      .select({ userId: channelMembers.userId })
      .from(channelMembers)
      .where(eq(channelMembers.channelId, channel.id));
    const missing = memberIds.filter((id) => !present.some((p) => p.userId === id));
    if (missing.length > 0) {
      const existing = channel;
      await ctx.pipeline.transaction((tx, outbox) => addMembers(tx, outbox, existing, missing));
    }
  }
  return { dm: await getDm(ctx, userId, channel.id), created };
}
