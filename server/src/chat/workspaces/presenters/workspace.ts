// Workspaces, their members and invites on the wire.
import type { users, workspaceInvites, workspaces } from '../../schema.js';

type WorkspaceRow = typeof workspaces.$inferSelect;
type UserRow = typeof users.$inferSelect;
type InviteRow = typeof workspaceInvites.$inferSelect;

export interface WorkspaceView {
  id: string;
  name: string;
  slug: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** A workspace as one of its members sees it, with their own role. */
export interface MyWorkspaceView extends WorkspaceView {
  role: string;
}

/** Who someone is, as lists of members show them. */
export interface UserSummary {
  id: string;
  username: string;
  displayName: string;
  avatarUrl: string | null;
}

export interface MemberView {
  userId: string;
  role: string;
  joinedAt: string;
  user: UserSummary;
}

export interface InviteView {
  id: string;
  workspaceId: string;
  email: string | null;
  role: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  /** active | expired | used_up */
  status: string;
}

export function presentWorkspace(row: WorkspaceRow): WorkspaceView {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function presentMyWorkspace(row: WorkspaceRow, role: string): MyWorkspaceView {
  return { ...presentWorkspace(row), role };
}

export function presentUserSummary(
  row: Pick<UserRow, 'id' | 'username' | 'displayName' | 'avatarUrl'>,
): UserSummary {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    avatarUrl: row.avatarUrl,
  };
}

export function presentMember(row: {
  userId: string;
  role: string;
  joinedAt: Date;
  user: Pick<UserRow, 'id' | 'username' | 'displayName' | 'avatarUrl'>;
}): MemberView {
  return {
    userId: row.userId,
    role: row.role,
    joinedAt: row.joinedAt.toISOString(),
    user: presentUserSummary(row.user),
  };
}

export function inviteStatus(row: InviteRow, nowMs: number): string {
  if (row.uses >= row.maxUses) return 'used_up';
  if (row.expiresAt.getTime() <= nowMs) return 'expired';
  return 'active';
}

export function presentInvite(row: InviteRow, nowMs: number): InviteView {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    email: row.email,
    role: row.role,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    maxUses: row.maxUses,
    uses: row.uses,
    status: inviteStatus(row, nowMs),
  };
}
