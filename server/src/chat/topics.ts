// Chat's realtime topics. Channel topics are durable: their events go through the outbox, carry
// the channel's seq and are resumed from PostgreSQL.

export const CHANNEL_TOPIC_PREFIX = 'chat.channel.';

export const channelTopic = (channelId: string): string => `${CHANNEL_TOPIC_PREFIX}${channelId}`;

/** The channel id of a channel topic, or undefined for any other topic. */
export function channelIdOf(topic: string): string | undefined {
  return topic.startsWith(CHANNEL_TOPIC_PREFIX)
    ? topic.slice(CHANNEL_TOPIC_PREFIX.length)
    : undefined;
}
