// The channels of a workspace the caller can see (public ones, private ones they are in), by
// name, each with their membership and unread state; `member=true` keeps only their own.
import { and, asc, eq, gt, inArray, isNotNull, isNull, or } from 'drizzle-orm';
import { z } from 'zod';
import type { ChatContext } from '../../context.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { channelMembers, channels } from '../../schema.js';
import { decodeCursor, pageOf, type Page } from '../../workspaces/pagination.js';
import { presentMyChannel, type MyChannelView } from '../presenters/channel.js';
import { listChannelsQuery } from '../schemas.js';

export async function listChannels(
  ctx: ChatContext,
  userId: string,
  workspaceId: string,
  query: unknown,
): Promise<Page<MyChannelView>> {
  await requireWorkspaceRole(ctx, userId, workspaceId);
  const { cursor, limit, member } = listChannelsQuery.parse(query);
  const after = decodeCursor(cursor, z.tuple([z.string()]));
  const isMember = isNotNull(channelMembers.userId);
  const rows = await ctx.db
    .select({ channel: channels, member: channelMembers })
    .from(channels)
    .leftJoin(
      channelMembers,
      and(eq(channelMembers.channelId, channels.id), eq(channelMembers.userId, userId)),
    )
    .where(
      and(
        eq(channels.workspaceId, workspaceId),
        inArray(channels.kind, ['public', 'private']),
        isNull(channels.deletedAt),
        member ? isMember : or(eq(channels.kind, 'public'), isMember),
        after ? gt(channels.name, after[0]) : undefined,
      ),
    )
    .orderBy(asc(channels.name))
    .limit(limit + 1);
  return pageOf(
    rows,
    limit,
    (r) => presentMyChannel(r.channel, r.member),
    (r) => [r.channel.name],
  );
}
