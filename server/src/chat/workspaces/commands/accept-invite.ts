// Accepting an invite: the caller joins the workspace with the invite's role, and its general
// channel. An invite bound to an email is only for the account with that email; an expired or
// used-up one is gone (410). Accepting again as a member changes nothing and uses nothing.
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { OutboxWriter } from '../../../pipeline/index.js';
import type { Transaction } from '../../../store/index.js';
import { addMembers, generalChannelOf } from '../../channels/commands/membership.js';
import type { ChatContext } from '../../context.js';
import { userEvents } from '../../events/channel-events.js';
import { retryingConflicts } from '../../messages/channel-transaction.js';
import { users, workspaceInvites, workspaceMembers, workspaces } from '../../schema.js';
import {
  presentMyWorkspace,
  presentWorkspace,
  type MyWorkspaceView,
} from '../presenters/workspace.js';
import { acceptInviteInput } from '../schemas.js';
import { inviteCodeHash } from './invite-codes.js';

type WorkspaceRow = typeof workspaces.$inferSelect;

/**
 * Makes a user a member of a workspace and of its general channel, with the events. Returns
 * false when they were a member already (nothing changes then).
 */
export async function addWorkspaceMember(
  tx: Transaction,
  outbox: OutboxWriter,
  workspace: WorkspaceRow,
  userId: string,
  role: string,
): Promise<boolean> {
  const inserted = await tx
    .insert(workspaceMembers)
    .values({ workspaceId: workspace.id, userId, role })
    .onConflictDoNothing()
    .returning({ userId: workspaceMembers.userId });
  if (inserted.length === 0) return false;
  await userEvents(outbox, [userId], 'workspace.joined', {
    workspaceId: workspace.id,
    workspace: presentWorkspace(workspace),
    role,
  });
  const general = await generalChannelOf(tx, workspace.id);
  if (general) await addMembers(tx, outbox, general, [userId]);
  return true;
}

class AlreadyMember extends Error {}

export async function acceptInvite(
  ctx: ChatContext,
  userId: string,
  input: unknown,
): Promise<MyWorkspaceView> {
  const { code } = acceptInviteInput.parse(input);
  const [found] = await ctx.db
    .select({ invite: workspaceInvites, workspace: workspaces })
    .from(workspaceInvites)
    .innerJoin(workspaces, eq(workspaces.id, workspaceInvites.workspaceId))
    .where(eq(workspaceInvites.codeHash, inviteCodeHash(code)));
  if (!found || found.invite.revokedAt) throw new AppError('not_found', 'No such invite.');
  const { invite, workspace } = found;
  const [me] = await ctx.db.select({ email: users.email }).from(users).where(eq(users.id, userId));
  if (invite.email && invite.email !== me?.email) {
    throw new AppError('forbidden', 'This invite is for another email address.');
  }
  const role = await roleIn(ctx, workspace.id, userId);
  if (role) return presentMyWorkspace(workspace, role);

  const now = new Date(ctx.now());
  try {
    await retryingConflicts(() =>
      ctx.pipeline.transaction(async (tx, outbox) => {
        if (!(await addWorkspaceMember(tx, outbox, workspace, userId, invite.role))) {
          throw new AlreadyMember();
        }
        // Counted in the same statement that checks it, so concurrent accepts cannot overrun it.
        const claimed = await tx
          .update(workspaceInvites)
          .set({ uses: sql`${workspaceInvites.uses} + 1` })
          .where(
            and(
              eq(workspaceInvites.id, invite.id),
              isNull(workspaceInvites.revokedAt),
              gt(workspaceInvites.expiresAt, now),
              lt(workspaceInvites.uses, workspaceInvites.maxUses),
            ),
          )
          .returning({ id: workspaceInvites.id });
        if (claimed.length === 0) {
          throw new AppError('gone', 'This invite has expired or has been used up.');
        }
      }),
    );
    return presentMyWorkspace(workspace, invite.role);
  } catch (err) {
    if (!(err instanceof AlreadyMember)) throw err;
    // A concurrent accept of theirs got there first.
    const role = await roleIn(ctx, workspace.id, userId);
    if (!role) throw err;
    return presentMyWorkspace(workspace, role);
  }
}

async function roleIn(ctx: ChatContext, workspaceId: string, userId: string) {
  const [row] = await ctx.db
    .select({ role: workspaceMembers.role })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)));
  return row?.role;
}
