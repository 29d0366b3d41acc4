// The member rows role changes and removals decide on, locked for the rest of the transaction,
// so two owners demoting or removing each other at once cannot leave a workspace without one.
import { and, eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { Transaction } from '../../../store/index.js';
import { isUuid } from '../../ids.js';
import { users, workspaceMembers } from '../../schema.js';
import { userSummaryColumns } from './list-members.js';

export interface LockedMembers {
  target: { userId: string; role: string; joinedAt: Date };
  ownerCount: number;
}

export async function lockMembers(
  tx: Transaction,
  workspaceId: string,
  userId: string,
): Promise<LockedMembers> {
  if (!isUuid(userId)) throw new AppError('not_found', 'No such member.');
  const owners = await tx
    .select({ userId: workspaceMembers.userId })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.role, 'owner')))
    .for('update');
  const [target] = await tx
    .select({
      userId: workspaceMembers.userId,
      role: workspaceMembers.role,
      joinedAt: workspaceMembers.joinedAt,
    })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)))
    .for('update');
  if (!target) throw new AppError('not_found', 'No such member.');
  return { target, ownerCount: owners.length };
}

export async function userSummaryOf(tx: Pick<Transaction, 'select'>, userId: string) {
  const [user] = await tx.select(userSummaryColumns).from(users).where(eq(users.id, userId));
  if (!user) throw new AppError('not_found', 'No such member.');
  return user;
}
