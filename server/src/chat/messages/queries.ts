// Reads shared by the message commands: a message with the caller's access to its channel, and
// rows turned into views with their reactions grouped.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { AppError } from '../../http/index.js';
import type { Database } from '../../store/index.js';
import type { ChatContext } from '../context.js';
import { isUuid } from '../ids.js';
import { channelAccess, type ChannelAccess } from '../policies/channel-access.js';
import { channelMembers, messages, reactions, users } from '../schema.js';
import {
  presentMessage,
  type MessageRow,
  type MessageView,
  type ReactionGroup,
} from './presenters/message.js';

export interface MessageAccess {
  readonly message: MessageRow;
  readonly access: ChannelAccess;
}

const notFound = () => new AppError('not_found', 'No such message.');

/** The message and the caller's access to its channel; 404 when they may not read it. */
export async function requireMessage(
  ctx: Pick<ChatContext, 'db'>,
  userId: string,
  messageId: string,
): Promise<MessageAccess> {
  if (!isUuid(messageId)) throw notFound();
  const [message] = await ctx.db.select().from(messages).where(eq(messages.id, messageId));
  if (!message) throw notFound();
  const access = await channelAccess(ctx.db, userId, message.channelId);
  if (!access?.canRead) throw notFound();
  return { message, access };
}

/** The message, when the caller may change it in the ways every poster may (pins, reactions). */
export async function requirePostableMessage(
  ctx: Pick<ChatContext, 'db'>,
  userId: string,
  messageId: string,
): Promise<MessageAccess> {
  const found = await requireMessage(ctx, userId, messageId);
  if (!found.access.canPost) {
    throw new AppError(
      'forbidden',
      found.access.channel.archivedAt ? 'This channel is archived.' : 'Join the channel first.',
    );
  }
  if (found.message.deletedAt) throw new AppError('gone', 'This message was deleted.');
  return found;
}

/** The row, locked for the rest of the transaction: writes to one message take turns. */
export async function lockMessage(tx: Database, messageId: string): Promise<MessageRow> {
  const [row] = await tx.select().from(messages).where(eq(messages.id, messageId)).for('update');
  if (!row) throw notFound();
  return row;
}

/** Reactions of the messages grouped by emoji, in the order each emoji first appeared. */
export async function reactionGroups(
  db: Database,
  messageIds: readonly string[],
  viewerId?: string,
): Promise<Map<string, ReactionGroup[]>> {
  const groups = new Map<string, ReactionGroup[]>();
  if (messageIds.length === 0) return groups;
  const me = viewerId
    ? sql<boolean>`bool_or(${reactions.userId} = ${viewerId})`
    : sql<boolean>`false`;
  const rows = await db
    .select({
      messageId: reactions.messageId,
      emoji: reactions.emoji,
      count: sql<number>`count(*)::int`,
      userIds: sql<
        string[]
      >`(array_agg(${reactions.userId} order by ${reactions.createdAt}, ${reactions.userId}))[1:10]::text[]`,
      me,
    })
    .from(reactions)
    .where(inArray(reactions.messageId, [...messageIds]))
    .groupBy(reactions.messageId, reactions.emoji)
    .orderBy(sql`min(${reactions.createdAt})`, reactions.emoji);
  for (const row of rows) {
    const list = groups.get(row.messageId) ?? [];
    list.push({
      emoji: row.emoji,
      count: Number(row.count),
      userIds: row.userIds,
      me: Boolean(row.me),
    });
    groups.set(row.messageId, list);
  }
  return groups;
}

/** Views of the rows, in the same order; `me` in reactions is relative to `viewerId`. */
export async function viewMessages(
  db: Database,
  rows: readonly MessageRow[],
  viewerId?: string,
): Promise<MessageView[]> {
  const live = rows.filter((row) => row.deletedAt === null).map((row) => row.id);
  const groups = await reactionGroups(db, live, viewerId);
  return rows.map((row) => presentMessage(row, groups.get(row.id)));
}

export async function viewMessage(
  db: Database,
  row: MessageRow,
  viewerId?: string,
): Promise<MessageView> {
  const [view] = await viewMessages(db, [row], viewerId);
  return view!;
}

/** Ids of the channel's members among the usernames, in the order they were mentioned. */
export async function channelMemberIds(
  ctx: Pick<ChatContext, 'db'>,
  channelId: string,
  usernames: readonly string[],
): Promise<string[]> {
  if (usernames.length === 0) return [];
  const rows = await ctx.db
    .select({ id: users.id, username: users.username })
    .from(users)
    .innerJoin(
      channelMembers,
      and(eq(channelMembers.userId, users.id), eq(channelMembers.channelId, channelId)),
    )
    .where(inArray(users.username, [...usernames]));
  const idOf = new Map(rows.map((r) => [r.username, r.id]));
  const ids = usernames.map((name) => idOf.get(name)).filter((id) => id !== undefined);
  return [...new Set(ids)];
}
