// Leaving a workspace, or removing someone from it: owners remove anyone, admins remove members.
// The person leaves every channel of the workspace too; the last owner cannot leave.
import { and, eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import { removeFromWorkspaceChannels } from '../../channels/commands/membership.js';
import type { ChatContext } from '../../context.js';
import { userEvents } from '../../events/channel-events.js';
import { retryingConflicts } from '../../messages/channel-transaction.js';
import { isAdminRole, requireWorkspaceRole } from '../../policies/channel-access.js';
import { workspaceMembers } from '../../schema.js';
import { lockMembers } from './member-rows.js';

export async function removeWorkspaceMember(
  ctx: ChatContext,
  callerId: string,
  workspaceId: string,
  userId: string,
): Promise<void> {
  const callerRole = await requireWorkspaceRole(ctx, callerId, workspaceId);
  const leaving = userId === callerId;
  if (!leaving && !isAdminRole(callerRole)) {
    throw new AppError('forbidden', 'Only workspace owners and admins may remove members.');
  }
  await retryingConflicts(() =>
    ctx.pipeline.transaction(async (tx, outbox) => {
      const { target, ownerCount } = await lockMembers(tx, workspaceId, userId);
      if (!leaving && target.role !== 'member' && callerRole !== 'owner') {
        throw new AppError('forbidden', 'Only the workspace owner may remove admins and owners.');
      }
      if (target.role === 'owner' && ownerCount <= 1) {
        throw new AppError(
          'conflict',
          'A workspace needs an owner: make someone else owner before the last one leaves.',
        );
      }
      await tx
        .delete(workspaceMembers)
        .where(
          and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)),
        );
      await removeFromWorkspaceChannels(tx, outbox, workspaceId, userId, callerId);
      await userEvents(outbox, [userId], 'workspace.left', {
        workspaceId,
        ...(leaving ? {} : { by: callerId }),
      });
    }),
  );
}
