// Changing a member's workspace role. Only owners change roles (making admins, making other
// owners: ownership passes by making someone owner, after which the former owner may step
// down); the last owner cannot be demoted.
import { and, eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { userEvents } from '../../events/channel-events.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { workspaceMembers } from '../../schema.js';
import { presentMember, type MemberView } from '../presenters/workspace.js';
import { updateMemberInput } from '../schemas.js';
import { lockMembers, userSummaryOf } from './member-rows.js';

export async function updateMemberRole(
  ctx: ChatContext,
  callerId: string,
  workspaceId: string,
  userId: string,
  input: unknown,
): Promise<MemberView> {
  const callerRole = await requireWorkspaceRole(ctx, callerId, workspaceId, 'admin');
  const { role } = updateMemberInput.parse(input);
  if (callerRole !== 'owner') {
    throw new AppError('forbidden', 'Only the workspace owner may change roles.');
  }
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const { target, ownerCount } = await lockMembers(tx, workspaceId, userId);
    if (target.role !== role) {
      if (target.role === 'owner' && ownerCount <= 1) {
        throw new AppError(
          'conflict',
          'A workspace needs an owner: make someone else owner before stepping down.',
        );
      }
      await tx
        .update(workspaceMembers)
        .set({ role })
        .where(
          and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)),
        );
      await userEvents(outbox, [userId], 'workspace.updated', { workspaceId, role });
    }
    return presentMember({ ...target, role, user: await userSummaryOf(tx, userId) });
  });
}
