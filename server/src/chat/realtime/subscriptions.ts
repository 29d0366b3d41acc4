// Which chat topics a connection follows without asking: at authentication, the user's own chat
// topic and every channel they are a member of (its events and its typing); afterwards, channels
// they join or leave, on every node where they are connected, over WebSocket and SSE alike. The `channel.joined|left` event on
// the user's topic is what each node reacts to (docs/decisions.md), and the client sees it only
// once its connection's subscriptions already changed.
import type { SubscribedFrame, UnsubscribedFrame } from '@switchboard/protocol';
import { and, eq, isNull } from 'drizzle-orm';
import type { Connection, ReactedEvent } from '../../realtime/index.js';
import type { ChatContext } from '../context.js';
import { isUuid } from '../ids.js';
import { channelMembers, channels } from '../schema.js';
import { activityTopic, channelTopic, USER_CHAT_TOPIC_PREFIX, userChatTopic } from '../topics.js';
import type { ChatUserResolver } from './chat-user.js';

/** The topics of one channel a member's connections follow. */
export const channelTopics = (channelId: string): string[] => [
  channelTopic(channelId),
  activityTopic(channelId),
];

async function memberChannelIds(ctx: ChatContext, userId: string): Promise<string[]> {
  const rows = await ctx.db
    .select({ id: channelMembers.channelId })
    .from(channelMembers)
    .innerJoin(channels, eq(channels.id, channelMembers.channelId))
    .where(and(eq(channelMembers.userId, userId), isNull(channels.deletedAt)));
  return rows.map((row) => row.id);
}

async function isMember(ctx: ChatContext, userId: string, channelId: string): Promise<boolean> {
  const [row] = await ctx.db
    .select({ id: channelMembers.channelId })
    .from(channelMembers)
    .innerJoin(channels, eq(channels.id, channelMembers.channelId))
    .where(
      and(
        eq(channelMembers.channelId, channelId),
        eq(channelMembers.userId, userId),
        isNull(channels.deletedAt),
      ),
    );
  return row !== undefined;
}

export function registerChatSubscriptions(ctx: ChatContext, chatUserOf: ChatUserResolver): void {
  const { hub } = ctx.realtime;
  ctx.realtime.useDefaultTopics(async (subject) => {
    const userId = await chatUserOf(subject);
    if (!userId) return [];
    const ids = await memberChannelIds(ctx, userId);
    return [userChatTopic(userId), ...ids.flatMap(channelTopics)];
  });

  // The membership is read again rather than taken from the event: a replayed `channel.left`
  // of a channel joined again since must not unsubscribe it.
  hub.reactTo(
    USER_CHAT_TOPIC_PREFIX,
    ['channel.joined', 'channel.left'],
    async (connection: Connection, event: ReactedEvent) => {
      const { channelId } = JSON.parse(event.data) as { channelId?: unknown };
      if (typeof channelId !== 'string' || !isUuid(channelId)) return;
      const userId = await chatUserOf(connection.userId);
      if (!userId || event.topic !== userChatTopic(userId)) return;
      const topics = channelTopics(channelId);
      if (await isMember(ctx, userId, channelId)) {
        const fresh = topics.filter((topic) => !connection.isSubscribed(topic));
        if (fresh.length === 0) return;
        const subscribed: SubscribedFrame = {
          op: 'subscribed',
          positions: await hub.subscribe(connection, fresh),
        };
        connection.sink.sendFrame(subscribed);
      } else {
        const subscribed = topics.filter((topic) => connection.isSubscribed(topic));
        if (subscribed.length === 0) return;
        hub.unsubscribe(connection, subscribed);
        const unsubscribed: UnsubscribedFrame = { op: 'unsubscribed', topics: subscribed };
        connection.sink.sendFrame(unsubscribed);
      }
    },
  );
}
