// Who may do what in a channel. Every chat command that touches a channel asks here first; a
// channel the caller may not see answers 404, exactly like one that does not exist, so private
// channels and DMs cannot be probed.
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../http/index.js';
import { preparedStatementsEnabled, type Executor } from '../../store/index.js';
import type { ChatContext } from '../context.js';
import { isUuid } from '../ids.js';
import { channelMembers, channels, workspaceMembers } from '../schema.js';

export type ChannelRow = typeof channels.$inferSelect;
export type ChannelMemberRow = typeof channelMembers.$inferSelect;
export type WorkspaceRole = 'owner' | 'admin' | 'member';

export interface ChannelAccess {
  readonly channel: ChannelRow;
  /** The caller's membership, when they are a member. */
  readonly member: ChannelMemberRow | undefined;
  /** The caller's role in the channel's workspace, when they belong to it. */
  readonly workspaceRole: WorkspaceRole | undefined;
  /** Sees the channel and reads its messages: members; for public channels, the workspace. */
  readonly canRead: boolean;
  /** Posts, reacts, replies: members of a channel that is not archived. */
  readonly canPost: boolean;
  /** Renames, archives, deletes, adds and removes others: channel or workspace owners/admins. */
  readonly canManage: boolean;
  /** Moderates messages (edit or delete anyone's, pin): channel or workspace owners/admins. */
  readonly canModerate: boolean;
}

export const isAdminRole = (role: string | undefined) => role === 'owner' || role === 'admin';

type AccessExecutor = Executor & ChatContext['db'];

/** The access query with the caller and the channel as placeholders. */
function accessQuery(db: AccessExecutor) {
  return db
    .select({ channel: channels, member: channelMembers, workspaceRole: workspaceMembers.role })
    .from(channels)
    .leftJoin(
      channelMembers,
      and(
        eq(channelMembers.channelId, channels.id),
        eq(channelMembers.userId, sql.placeholder('userId')),
      ),
    )
    .leftJoin(
      workspaceMembers,
      and(
        eq(workspaceMembers.workspaceId, channels.workspaceId),
        eq(workspaceMembers.userId, sql.placeholder('userId')),
      ),
    )
    .where(eq(channels.id, sql.placeholder('channelId')));
}

// Every message command asks this first: prepared once per database handle (and named, so
// PostgreSQL plans it once per connection) instead of built and planned on every call.
const preparedAccess = new WeakMap<AccessExecutor, ReturnType<typeof prepareAccess>>();

function prepareAccess(db: AccessExecutor) {
  return accessQuery(db).prepare('chat_channel_access');
}

export async function channelAccess(
  db: AccessExecutor,
  userId: string,
  channelId: string,
): Promise<ChannelAccess | undefined> {
  if (!isUuid(channelId)) return undefined;
  let rows;
  if (preparedStatementsEnabled()) {
    let prepared = preparedAccess.get(db);
    if (!prepared) {
      prepared = prepareAccess(db);
      preparedAccess.set(db, prepared);
    }
    rows = await prepared.execute({ userId, channelId });
  } else {
    rows = await accessQuery(db).execute({ userId, channelId });
  }
  const [row] = rows;
  if (!row || row.channel.deletedAt) return undefined;
  const { channel } = row;
  const member = row.member ?? undefined;
  const workspaceRole = (row.workspaceRole ?? undefined) as WorkspaceRole | undefined;
  const isDirect = channel.kind === 'dm' || channel.kind === 'group_dm';
  const canRead =
    member !== undefined || (channel.kind === 'public' && workspaceRole !== undefined);
  const admin = isAdminRole(member?.role) || (!isDirect && isAdminRole(workspaceRole));
  return {
    channel,
    member,
    workspaceRole,
    canRead,
    canPost: member !== undefined && !channel.archivedAt,
    canManage: canRead && admin && !isDirect,
    canModerate: canRead && admin,
  };
}

/** The access of a caller who must at least see the channel; 404 otherwise. */
export async function requireChannel(
  ctx: Pick<ChatContext, 'db'>,
  userId: string,
  channelId: string,
  need: 'read' | 'post' | 'manage' | 'moderate' = 'read',
): Promise<ChannelAccess> {
  const access = await channelAccess(ctx.db, userId, channelId);
  if (!access?.canRead) throw new AppError('not_found', 'No such channel.');
  const allowed = {
    read: true,
    post: access.canPost,
    manage: access.canManage,
    moderate: access.canModerate,
  }[need];
  if (!allowed) {
    if (need === 'post' && access.channel.archivedAt) {
      throw new AppError('forbidden', 'This channel is archived.');
    }
    throw new AppError(
      'forbidden',
      need === 'post'
        ? 'Join the channel first.'
        : 'Only channel or workspace owners and admins may do this.',
    );
  }
  return access;
}

/** The caller's role in a workspace; 404 when they are not a member (it is invisible then). */
export async function requireWorkspaceRole(
  ctx: Pick<ChatContext, 'db'>,
  userId: string,
  workspaceId: string,
  need: 'member' | 'admin' | 'owner' = 'member',
): Promise<WorkspaceRole> {
  if (!isUuid(workspaceId)) throw new AppError('not_found', 'No such workspace.');
  const [row] = await ctx.db
    .select({ role: workspaceMembers.role })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)));
  if (!row) throw new AppError('not_found', 'No such workspace.');
  const role = row.role as WorkspaceRole;
  if (need === 'admin' && !isAdminRole(role)) {
    throw new AppError('forbidden', 'Only workspace owners and admins may do this.');
  }
  if (need === 'owner' && role !== 'owner') {
    throw new AppError('forbidden', 'Only the workspace owner may do this.');
  }
  return role;
}
