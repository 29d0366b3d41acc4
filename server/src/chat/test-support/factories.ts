// Test factories for chat: workspaces, channels and memberships written straight into the
// database, for tests that need them without going through (or testing) their routes.
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../store/index.js';
import { newId } from '../ids.js';
import { channelMembers, channels, workspaceMembers, workspaces } from '../schema.js';
import type { WorkspaceRole } from '../policies/channel-access.js';

export type WorkspaceRow = typeof workspaces.$inferSelect;
export type ChannelRow = typeof channels.$inferSelect;
export type ChannelKind = 'public' | 'private' | 'dm' | 'group_dm';

/** A user id, or a user id with a role. */
export type MemberSpec = string | { userId: string; role: WorkspaceRole };

const specOf = (member: MemberSpec) =>
  typeof member === 'string' ? { userId: member, role: 'member' as WorkspaceRole } : member;

let counter = 0;
const unique = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}${(counter += 1)}${Math.random().toString(36).slice(2, 6)}`;

/**
 * A workspace owned by `owner`, with `members` (ids default to the `member` role; pass
 * `{ userId, role: 'admin' }` for others).
 */
export async function makeWorkspace(
  db: Database,
  options: { owner: string; members?: readonly MemberSpec[]; name?: string },
): Promise<WorkspaceRow> {
  const slug = unique('ws');
  const [row] = await db
    .insert(workspaces)
    .values({ id: newId(), name: options.name ?? slug, slug, createdBy: options.owner })
    .returning();
  const workspace = row!;
  await addWorkspaceMembers(db, workspace.id, [
    { userId: options.owner, role: 'owner' },
    ...(options.members ?? []),
  ]);
  return workspace;
}

/** Adds people to a workspace; someone already in it keeps their role. */
export async function addWorkspaceMembers(
  db: Database,
  workspaceId: string,
  members: readonly MemberSpec[],
): Promise<void> {
  if (members.length === 0) return;
  await db
    .insert(workspaceMembers)
    .values(members.map(specOf).map((m) => ({ workspaceId, userId: m.userId, role: m.role })))
    .onConflictDoNothing();
}

/**
 * A channel in `workspaceId` with `members` (the first is its creator unless `createdBy` says
 * otherwise). Members are not added to the workspace: do that with `makeWorkspace`.
 */
export async function makeChannel(
  db: Database,
  options: {
    workspaceId: string;
    kind?: ChannelKind;
    members?: readonly MemberSpec[];
    name?: string;
    createdBy?: string;
    archived?: boolean;
  },
): Promise<ChannelRow> {
  const kind = options.kind ?? 'public';
  const members = (options.members ?? []).map(specOf);
  const createdBy = options.createdBy ?? members[0]?.userId;
  if (!createdBy) throw new Error('makeChannel needs members or createdBy');
  const isDirect = kind === 'dm' || kind === 'group_dm';
  const [row] = await db
    .insert(channels)
    .values({
      id: newId(),
      workspaceId: options.workspaceId,
      kind,
      name: isDirect ? null : (options.name ?? unique('ch')),
      dmKey: isDirect
        ? members
            .map((m) => m.userId)
            .sort()
            .join(',')
        : null,
      createdBy,
      archivedAt: options.archived ? new Date() : null,
    })
    .returning();
  const channel = row!;
  await addChannelMembers(db, channel.id, members);
  const [fresh] = await db.select().from(channels).where(eq(channels.id, channel.id));
  return fresh!;
}

/** Adds people to a channel (keeping member_count right); existing members are left alone. */
export async function addChannelMembers(
  db: Database,
  channelId: string,
  members: readonly MemberSpec[],
): Promise<void> {
  if (members.length === 0) return;
  const added = await db
    .insert(channelMembers)
    .values(members.map(specOf).map((m) => ({ channelId, userId: m.userId, role: m.role })))
    .onConflictDoNothing()
    .returning({ userId: channelMembers.userId });
  await db
    .update(channels)
    .set({ memberCount: sql`${channels.memberCount} + ${added.length}` })
    .where(eq(channels.id, channelId));
}

/** Archives or unarchives a channel. */
export async function setChannelArchived(
  db: Database,
  channelId: string,
  archived: boolean,
): Promise<void> {
  await db
    .update(channels)
    .set({ archivedAt: archived ? new Date() : null })
    .where(eq(channels.id, channelId));
}
