// The workspaces the caller belongs to, oldest first.
import { and, asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import type { ChatContext } from '../../context.js';
import { workspaceMembers, workspaces } from '../../schema.js';
import { decodeCursor, pageOf, pageQuery, type Page } from '../pagination.js';
import { presentMyWorkspace, type MyWorkspaceView } from '../presenters/workspace.js';

export async function listMyWorkspaces(
  ctx: ChatContext,
  userId: string,
  query: unknown,
): Promise<Page<MyWorkspaceView>> {
  const { cursor, limit } = pageQuery.parse(query);
  const after = decodeCursor(cursor, z.tuple([z.uuid()]));
  const rows = await ctx.db
    .select({ workspace: workspaces, role: workspaceMembers.role })
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(
      and(eq(workspaceMembers.userId, userId), after ? gt(workspaces.id, after[0]) : undefined),
    )
    .orderBy(asc(workspaces.id))
    .limit(limit + 1);
  return pageOf(
    rows,
    limit,
    (r) => presentMyWorkspace(r.workspace, r.role),
    (r) => [r.workspace.id],
  );
}
