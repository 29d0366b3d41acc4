// A workspace's invites that were not revoked, newest first (owners and admins).
import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import { z } from 'zod';
import type { ChatContext } from '../../context.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { workspaceInvites } from '../../schema.js';
import { decodeCursor, pageOf, pageQuery, type Page } from '../pagination.js';
import { presentInvite, type InviteView } from '../presenters/workspace.js';

export async function listInvites(
  ctx: ChatContext,
  userId: string,
  workspaceId: string,
  query: unknown,
): Promise<Page<InviteView>> {
  await requireWorkspaceRole(ctx, userId, workspaceId, 'admin');
  const { cursor, limit } = pageQuery.parse(query);
  const before = decodeCursor(cursor, z.tuple([z.uuid()]));
  const rows = await ctx.db
    .select()
    .from(workspaceInvites)
    .where(
      and(
        eq(workspaceInvites.workspaceId, workspaceId),
        isNull(workspaceInvites.revokedAt),
        before ? lt(workspaceInvites.id, before[0]) : undefined,
      ),
    )
    .orderBy(desc(workspaceInvites.id))
    .limit(limit + 1);
  const now = ctx.now();
  return pageOf(
    rows,
    limit,
    (r) => presentInvite(r, now),
    (r) => [r.id],
  );
}
