// The channels (DMs included) a user is a member of, for subscribing their connections.
import { and, eq, isNull } from 'drizzle-orm';
import type { ChatContext } from '../../context.js';
import { channelMembers, channels } from '../../schema.js';

export async function listMyChannelIds(
  ctx: Pick<ChatContext, 'db'>,
  userId: string,
): Promise<string[]> {
  const rows = await ctx.db
    .select({ id: channels.id })
    .from(channelMembers)
    .innerJoin(channels, eq(channels.id, channelMembers.channelId))
    .where(and(eq(channelMembers.userId, userId), isNull(channels.deletedAt)));
  return rows.map((r) => r.id);
}
