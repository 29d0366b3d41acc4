// A channel's members by username, for whoever can read the channel.
import { and, asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { channelMembers, users } from '../../schema.js';
import { userSummaryColumns } from '../../workspaces/commands/list-members.js';
import { decodeCursor, pageOf, pageQuery, type Page } from '../../workspaces/pagination.js';
import { presentMember, type MemberView } from '../../workspaces/presenters/workspace.js';

export async function listChannelMembers(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  query: unknown,
): Promise<Page<MemberView>> {
  const { channel } = await requireChannel(ctx, userId, channelId);
  const { cursor, limit } = pageQuery.parse(query);
  const after = decodeCursor(cursor, z.tuple([z.string()]));
  const rows = await ctx.db
    .select({
      userId: channelMembers.userId,
      role: channelMembers.role,
      joinedAt: channelMembers.joinedAt,
      user: userSummaryColumns,
    })
    .from(channelMembers)
    .innerJoin(users, eq(users.id, channelMembers.userId))
    .where(
      and(
        eq(channelMembers.channelId, channel.id),
        after ? gt(users.username, after[0]) : undefined,
      ),
    )
    .orderBy(asc(users.username))
    .limit(limit + 1);
  return pageOf(rows, limit, presentMember, (r) => [r.user.username]);
}
