// Creating a workspace: the creator becomes its owner, and its general channel is made with them
// as the first member, in one transaction with the events.
import { randomBytes } from 'node:crypto';
import { AppError } from '../../../http/index.js';
import { insertChannel } from '../../channels/commands/membership.js';
import type { ChatContext } from '../../context.js';
import { userEvents } from '../../events/channel-events.js';
import { newId } from '../../ids.js';
import { workspaceMembers, workspaces } from '../../schema.js';
import {
  presentMyWorkspace,
  presentWorkspace,
  type MyWorkspaceView,
} from '../presenters/workspace.js';
import { createWorkspaceInput } from '../schemas.js';
import { uniqueViolation } from '../../../store/index.js';

export const GENERAL_CHANNEL_NAME = 'general';

function slugFrom(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || 'workspace';
}

export async function createWorkspace(
  ctx: ChatContext,
  userId: string,
  input: unknown,
): Promise<MyWorkspaceView> {
  const { name, slug } = createWorkspaceInput.parse(input);
  let candidate = slug ?? slugFrom(name);
  for (let attempt = 1; ; attempt++) {
    try {
      return await insertWorkspace(ctx, userId, name, candidate);
    } catch (err) {
      if (uniqueViolation(err) !== 'workspaces_slug_key') throw err;
      // A slug the caller chose is theirs to change; a derived one gets a suffix.
      if (slug !== undefined || attempt >= 3) {
        throw new AppError('conflict', `The workspace slug "${candidate}" is taken.`);
      }
      candidate = `${slugFrom(name)}-${randomBytes(3).toString('hex')}`;
    }
  }
}

async function insertWorkspace(
  ctx: ChatContext,
  userId: string,
  name: string,
  slug: string,
): Promise<MyWorkspaceView> {
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const [workspace] = await tx
      .insert(workspaces)
      .values({ id: newId(), name, slug, createdBy: userId })
      .returning();
    await tx.insert(workspaceMembers).values({ workspaceId: workspace!.id, userId, role: 'owner' });
    await userEvents(outbox, [userId], 'workspace.joined', {
      workspaceId: workspace!.id,
      workspace: presentWorkspace(workspace!),
      role: 'owner',
    });
    await insertChannel(
      tx,
      outbox,
      {
        workspaceId: workspace!.id,
        kind: 'public',
        name: GENERAL_CHANNEL_NAME,
        purpose: 'Announcements and talk for the whole workspace.',
        createdBy: userId,
      },
      [],
    );
    return presentMyWorkspace(workspace!, 'owner');
  });
}
