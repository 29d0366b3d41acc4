// Reading the caller's DMs with their other members and unread counts: one query for the
// channels (the count is a bounded index range per DM), one for the people in them.
import { and, asc, eq, inArray, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { ChatContext } from '../../context.js';
import { channelMembers, channels, users } from '../../schema.js';
import { presentUserSummary, type UserSummary } from '../../workspaces/presenters/workspace.js';
import { presentDm, UNREAD_COUNT_CAP, type DmView } from '../presenters/dm.js';

/** When a DM last saw activity: its newest message, or its creation. */
export const dmActivity = sql<Date>`coalesce(${channels.lastMessageAt}, ${channels.createdAt})`;

export async function readDms(
  ctx: ChatContext,
  userId: string,
  where: SQL | undefined,
  limit: number,
): Promise<Array<{ view: DmView; activity: string }>> {
  const unreadCount = sql<number>`(select count(*) from (
      select 1 from chat.messages m
      where m.channel_id = ${channels.id} and m.thread_root_id is null
        and m.deleted_at is null and m.seq > ${channelMembers.lastReadSeq}
        and m.author_id <> ${userId}
      limit ${UNREAD_COUNT_CAP}) unread)`.mapWith(Number);
  const rows = await ctx.db
    .select({
      channel: channels,
      member: channelMembers,
      unreadCount,
      // As text, so a cursor keeps the database's full precision.
      activity: sql<string>`${dmActivity}::text`,
    })
    .from(channelMembers)
    .innerJoin(channels, eq(channels.id, channelMembers.channelId))
    .where(
      and(
        eq(channelMembers.userId, userId),
        inArray(channels.kind, ['dm', 'group_dm']),
        isNull(channels.deletedAt),
        where,
      ),
    )
    .orderBy(sql`${dmActivity} desc`, sql`${channels.id} desc`)
    .limit(limit);
  const others = await othersIn(
    ctx,
    userId,
    rows.map((r) => r.channel.id),
  );
  return rows.map((r) => ({
    view: presentDm(r.channel, r.member, others.get(r.channel.id) ?? [], r.unreadCount),
    activity: r.activity,
  }));
}

async function othersIn(
  ctx: ChatContext,
  userId: string,
  channelIds: string[],
): Promise<Map<string, UserSummary[]>> {
  const byChannel = new Map<string, UserSummary[]>();
  if (channelIds.length === 0) return byChannel;
  const rows = await ctx.db
    .select({
      channelId: channelMembers.channelId,
      id: users.id,
      username: users.username,
      displayName: users.displayName,
      avatarUrl: users.avatarUrl,
    })
    .from(channelMembers)
    .innerJoin(users, eq(users.id, channelMembers.userId))
    .where(and(inArray(channelMembers.channelId, channelIds), ne(channelMembers.userId, userId)))
    .orderBy(asc(users.username));
  for (const row of rows) {
    const list = byChannel.get(row.channelId) ?? [];
    list.push(presentUserSummary(row));
    byChannel.set(row.channelId, list);
  }
  return byChannel;
}
