// GET /api/v1/session/list: the caller's conversations (channels they belong to and DMs), most
// recently active first, each with its unread state.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { presentMyChannel, type MyChannelView } from '../../channels/presenters/channel.js';
import type { ChatContext } from '../../context.js';
import { channelMembers, channels } from '../../schema.js';
import { decodeCursor, pageOf, type Page } from '../../workspaces/pagination.js';
import { listSessionsQuery } from '../schemas.js';

/** Newest message, or creation for a conversation without any. */
const activity = sql<string>`coalesce(${channels.lastMessageAt}, ${channels.createdAt})`;

export async function listSessions(
  ctx: ChatContext,
  userId: string,
  query: unknown,
): Promise<Page<MyChannelView>> {
  const { workspaceId, cursor, limit } = listSessionsQuery.parse(query);
  const before = decodeCursor(cursor, z.tuple([z.string().max(64), z.uuid()]));
  const rows = await ctx.db
    .select({
      channel: channels,
      member: channelMembers,
      activity: sql<string>`to_char(${activity} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(channelMembers)
    .innerJoin(channels, eq(channels.id, channelMembers.channelId))
    .where(
      and(
        eq(channelMembers.userId, userId),
        isNull(channels.deletedAt),
        workspaceId ? eq(channels.workspaceId, workspaceId) : undefined,
        before
          ? sql`(${activity}, ${channels.id}) < (${before[0]}::timestamptz, ${before[1]}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(activity), desc(channels.id))
    .limit(limit + 1);
  return pageOf(
    rows,
    limit,
    (r) => presentMyChannel(r.channel, r.member),
    (r) => [r.activity, r.channel.id],
  );
}
