// One workspace, for its members.
import { eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { workspaces } from '../../schema.js';
import { presentMyWorkspace, type MyWorkspaceView } from '../presenters/workspace.js';

export async function getWorkspace(
  ctx: ChatContext,
  userId: string,
  workspaceId: string,
): Promise<MyWorkspaceView> {
  const role = await requireWorkspaceRole(ctx, userId, workspaceId);
  const [row] = await ctx.db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!row) throw new AppError('not_found', 'No such workspace.');
  return presentMyWorkspace(row, role);
}
