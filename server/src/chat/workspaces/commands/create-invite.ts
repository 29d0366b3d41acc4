// Inviting people to a workspace (owners and admins; only owners invite admins). The code is in
// this answer only.
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { newId } from '../../ids.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { workspaceInvites } from '../../schema.js';
import { presentInvite, type InviteView } from '../presenters/workspace.js';
import { createInviteInput } from '../schemas.js';
import { inviteCodeHash, newInviteCode } from './invite-codes.js';

export async function createInvite(
  ctx: ChatContext,
  userId: string,
  workspaceId: string,
  input: unknown,
): Promise<InviteView & { code: string }> {
  const callerRole = await requireWorkspaceRole(ctx, userId, workspaceId, 'admin');
  const invite = createInviteInput.parse(input ?? {});
  if (invite.role === 'admin' && callerRole !== 'owner') {
    throw new AppError('forbidden', 'Only the workspace owner may invite admins.');
  }
  const code = newInviteCode();
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(workspaceInvites)
    .values({
      id: newId(),
      workspaceId,
      codeHash: inviteCodeHash(code),
      email: invite.email ?? null,
      role: invite.role,
      createdBy: userId,
      createdAt: new Date(now),
      expiresAt: new Date(now + invite.expiresInSeconds * 1000),
      maxUses: invite.maxUses,
    })
    .returning();
  return { ...presentInvite(row!, now), code };
}
