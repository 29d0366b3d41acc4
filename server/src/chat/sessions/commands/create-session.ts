// POST /api/v1/session/create: opens (finds or creates) the DM or group DM of the caller and the
// given people, in the given workspace or the oldest one they all share.
import { asc, inArray, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { openDm, type OpenedDm } from '../../dms/commands/open-dm.js';
import { workspaceMembers } from '../../schema.js';
import { createSessionInput } from '../schemas.js';

export async function createSession(
  ctx: ChatContext,
  userId: string,
  input: unknown,
): Promise<OpenedDm> {
  const { userIds, workspaceId } = createSessionInput.parse(input);
  const everyone = [...new Set([userId, ...userIds])];
  const chosen = workspaceId ?? (await sharedWorkspace(ctx, everyone));
  if (!chosen) throw new AppError('not_found', 'No workspace holds all these people.');
  return openDm(ctx, userId, { workspaceId: chosen, userIds });
}

async function sharedWorkspace(ctx: ChatContext, userIds: string[]): Promise<string | undefined> {
  const [row] = await ctx.db
    .select({ workspaceId: workspaceMembers.workspaceId })
    .from(workspaceMembers)
    .where(inArray(workspaceMembers.userId, userIds))
    .groupBy(workspaceMembers.workspaceId)
    .having(sql`count(*) = ${userIds.length}`)
    .orderBy(asc(sql`min(${workspaceMembers.joinedAt})`), asc(workspaceMembers.workspaceId))
    .limit(1);
  return row?.workspaceId;
}
