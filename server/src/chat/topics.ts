// Chat's realtime topics. Channel and user chat topics are durable: their events go through the
// outbox, carry the topic's seq and are resumed from PostgreSQL. Activity topics (typing) are
// ephemeral and never replayed far.

export const CHANNEL_TOPIC_PREFIX = 'chat.channel.';
export const USER_CHAT_TOPIC_PREFIX = 'chat.user.';
export const ACTIVITY_TOPIC_PREFIX = 'chat.activity.';

export const channelTopic = (channelId: string): string => `${CHANNEL_TOPIC_PREFIX}${channelId}`;

/** A user's private chat events: their channel list, read markers from other devices. */
export const userChatTopic = (userId: string): string => `${USER_CHAT_TOPIC_PREFIX}${userId}`;

/** Typing indicators of a channel: ephemeral, never written to the database. */
export const activityTopic = (channelId: string): string => `${ACTIVITY_TOPIC_PREFIX}${channelId}`;

/** The channel id of a channel topic, or undefined for any other topic. */
export function channelIdOf(topic: string): string | undefined {
  return topic.startsWith(CHANNEL_TOPIC_PREFIX)
    ? topic.slice(CHANNEL_TOPIC_PREFIX.length)
    : undefined;
}
