// Reading and changing profiles. Another user is visible only to people who share a workspace
// with them, so user ids cannot be probed across tenants.
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { isUuid } from '../../ids.js';
import { users, workspaceMembers } from '../../schema.js';
import {
  presentOwnUser,
  presentUser,
  type OwnUserView,
  type UserView,
} from '../presenters/user.js';
import { statusInput, updateProfileInput, type UpdateProfileInput } from '../schemas.js';

export async function getOwnProfile(ctx: ChatContext, userId: string): Promise<OwnUserView> {
  const [row] = await ctx.db.select().from(users).where(eq(users.id, userId));
  if (!row) throw new AppError('not_found', 'No such user.');
  return presentOwnUser(row, ctx.now());
}

/** True when the two users are the same or are members of one workspace. */
export async function canSeeUser(ctx: ChatContext, viewerId: string, userId: string) {
  if (viewerId === userId) return true;
  if (!isUuid(userId)) return false;
  const mine = ctx.db
    .select({ workspaceId: workspaceMembers.workspaceId })
    .from(workspaceMembers)
    .where(eq(workspaceMembers.userId, viewerId));
  const shared = await ctx.db
    .select({ one: sql<number>`1` })
    .from(workspaceMembers)
    .where(
      and(eq(workspaceMembers.userId, userId), sql`${workspaceMembers.workspaceId} in ${mine}`),
    )
    .limit(1);
  return shared.length > 0;
}

export async function getUser(
  ctx: ChatContext,
  viewerId: string,
  userId: string,
): Promise<UserView> {
  if (!(await canSeeUser(ctx, viewerId, userId))) {
    throw new AppError('not_found', 'No such user.');
  }
  const [row] = await ctx.db.select().from(users).where(eq(users.id, userId));
  if (!row || row.deactivatedAt) throw new AppError('not_found', 'No such user.');
  return presentUser(row, ctx.now());
}

function statusColumns(input: {
  statusMessage?: string | null | undefined;
  customStatus?: { emoji: string; text: string; expiresAt: string | null } | null | undefined;
}) {
  const set: Partial<typeof users.$inferInsert> = {};
  if (input.statusMessage !== undefined) set.statusMessage = input.statusMessage || null;
  if (input.customStatus !== undefined) {
    const status = input.customStatus;
    set.customStatusEmoji = status?.emoji || null;
    set.customStatusText = status?.text || null;
    set.customStatusExpiresAt = status?.expiresAt ? new Date(status.expiresAt) : null;
  }
  return set;
}

export async function updateOwnProfile(
  ctx: ChatContext,
  userId: string,
  input: UpdateProfileInput,
): Promise<OwnUserView> {
  const patch = updateProfileInput.parse(input);
  const set: Partial<typeof users.$inferInsert> = {
    ...statusColumns(patch),
    updatedAt: new Date(ctx.now()),
  };
  if (patch.displayName !== undefined) set.displayName = patch.displayName;
  if (patch.avatarUrl !== undefined) set.avatarUrl = patch.avatarUrl;
  if (patch.theme !== undefined) set.theme = patch.theme;
  if (patch.notificationSettings !== undefined) {
    // Merged key by key, so a client that knows one setting does not erase the others.
    set.notificationSettings = sql`${users.notificationSettings} || ${JSON.stringify(patch.notificationSettings)}::jsonb`;
  }
  const [row] = await ctx.db.update(users).set(set).where(eq(users.id, userId)).returning();
  if (!row) throw new AppError('not_found', 'No such user.');
  return presentOwnUser(row, ctx.now());
}

export async function setOwnStatus(
  ctx: ChatContext,
  userId: string,
  input: unknown,
): Promise<OwnUserView> {
  const status = statusInput.parse(input);
  const [row] = await ctx.db
    .update(users)
    .set({ ...statusColumns(status), updatedAt: new Date(ctx.now()) })
    .where(eq(users.id, userId))
    .returning();
  if (!row) throw new AppError('not_found', 'No such user.');
  return presentOwnUser(row, ctx.now());
}
