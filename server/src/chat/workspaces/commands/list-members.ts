// A workspace's members by username, for its members.
import { and, asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import type { ChatContext } from '../../context.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { users, workspaceMembers } from '../../schema.js';
import { decodeCursor, pageOf, pageQuery, type Page } from '../pagination.js';
import { presentMember, type MemberView } from '../presenters/workspace.js';

export const userSummaryColumns = {
  id: users.id,
  username: users.username,
  displayName: users.displayName,
  avatarUrl: users.avatarUrl,
};

export async function listWorkspaceMembers(
  ctx: ChatContext,
  userId: string,
  workspaceId: string,
  query: unknown,
): Promise<Page<MemberView>> {
  await requireWorkspaceRole(ctx, userId, workspaceId);
  const { cursor, limit } = pageQuery.parse(query);
  const after = decodeCursor(cursor, z.tuple([z.string()]));
  const rows = await ctx.db
    .select({
      userId: workspaceMembers.userId,
      role: workspaceMembers.role,
      joinedAt: workspaceMembers.joinedAt,
      user: userSummaryColumns,
    })
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .where(
      and(
        eq(workspaceMembers.workspaceId, workspaceId),
        after ? gt(users.username, after[0]) : undefined,
      ),
    )
    .orderBy(asc(users.username))
    .limit(limit + 1);
  return pageOf(rows, limit, presentMember, (r) => [r.user.username]);
}
