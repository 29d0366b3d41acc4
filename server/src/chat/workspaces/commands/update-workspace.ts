// Renaming a workspace or changing its slug (owners and admins); every member hears of it.
import { eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { userEvents } from '../../events/channel-events.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { workspaceMembers, workspaces } from '../../schema.js';
import {
  presentMyWorkspace,
  presentWorkspace,
  type MyWorkspaceView,
} from '../presenters/workspace.js';
import { updateWorkspaceInput } from '../schemas.js';
import { uniqueViolation } from '../../../store/index.js';

export async function updateWorkspace(
  ctx: ChatContext,
  userId: string,
  workspaceId: string,
  input: unknown,
): Promise<MyWorkspaceView> {
  const role = await requireWorkspaceRole(ctx, userId, workspaceId, 'admin');
  const patch = updateWorkspaceInput.parse(input);
  try {
    return await ctx.pipeline.transaction(async (tx, outbox) => {
      const [row] = await tx
        .update(workspaces)
        .set({ ...patch, updatedAt: new Date(ctx.now()) })
        .where(eq(workspaces.id, workspaceId))
        .returning();
      if (!row) throw new AppError('not_found', 'No such workspace.');
      const members = await tx
        .select({ userId: workspaceMembers.userId })
        .from(workspaceMembers)
        .where(eq(workspaceMembers.workspaceId, workspaceId));
      await userEvents(
        outbox,
        members.map((m) => m.userId),
        'workspace.updated',
        { workspaceId, workspace: presentWorkspace(row) },
      );
      return presentMyWorkspace(row, role);
    });
  } catch (err) {
    if (uniqueViolation(err) === 'workspaces_slug_key') {
      throw new AppError('conflict', `The workspace slug "${patch.slug}" is taken.`);
    }
    throw err;
  }
}
