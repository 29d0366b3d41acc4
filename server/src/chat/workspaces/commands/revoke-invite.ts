// Revoking an invite (owners and admins): its code stops working at once.
import { and, eq, isNull } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { isUuid } from '../../ids.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { workspaceInvites } from '../../schema.js';

export async function revokeInvite(
  ctx: ChatContext,
  userId: string,
  workspaceId: string,
  inviteId: string,
): Promise<void> {
  await requireWorkspaceRole(ctx, userId, workspaceId, 'admin');
  if (!isUuid(inviteId)) throw new AppError('not_found', 'No such invite.');
  const revoked = await ctx.db
    .update(workspaceInvites)
    .set({ revokedAt: new Date(ctx.now()) })
    .where(
      and(
        eq(workspaceInvites.id, inviteId),
        eq(workspaceInvites.workspaceId, workspaceId),
        isNull(workspaceInvites.revokedAt),
      ),
    )
    .returning({ id: workspaceInvites.id });
  if (revoked.length === 0) throw new AppError('not_found', 'No such invite.');
}
