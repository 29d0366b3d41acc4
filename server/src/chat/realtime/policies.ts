// Who may subscribe to chat's topics: a channel's events and typing go to whoever can read the
// channel (members; for public channels, the workspace), a user's chat topic to that user only.
import type { ChatContext } from '../context.js';
import { channelAccess } from '../policies/channel-access.js';
import {
  ACTIVITY_TOPIC_PREFIX,
  CHANNEL_TOPIC_PREFIX,
  USER_CHAT_TOPIC_PREFIX,
  userChatTopic,
} from '../topics.js';
import type { ChatUserResolver } from './chat-user.js';

export function registerChatTopicPolicies(ctx: ChatContext, chatUserOf: ChatUserResolver): void {
  const canReadChannel = (prefix: string) => async (subject: string, topic: string) => {
    const userId = await chatUserOf(subject);
    if (!userId) return false;
    const access = await channelAccess(ctx.db, userId, topic.slice(prefix.length));
    return access?.canRead ?? false;
  };
  const { policies } = ctx.realtime;
  policies.register(CHANNEL_TOPIC_PREFIX, canReadChannel(CHANNEL_TOPIC_PREFIX));
  policies.register(ACTIVITY_TOPIC_PREFIX, canReadChannel(ACTIVITY_TOPIC_PREFIX));
  policies.register(USER_CHAT_TOPIC_PREFIX, async (subject, topic) => {
    const userId = await chatUserOf(subject);
    return userId !== undefined && topic === userChatTopic(userId);
  });
}
