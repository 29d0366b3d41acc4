// Chat's outbox events. Everything that happens in a channel is an event on the channel's
// durable topic; what concerns one user only (their membership list, read markers on other
// devices, DM creation) is an event on that user's durable chat topic. Both are written in the
// command's transaction and carry the topic's seq when delivered.
import type { OutboxRecord, OutboxWriter } from '../../pipeline/index.js';
import { channelTopic, userChatTopic } from '../topics.js';

/** Event types on channel topics. */
export type ChannelEventType =
  | 'channel.created'
  | 'channel.updated'
  | 'channel.archived'
  | 'channel.unarchived'
  | 'channel.deleted'
  | 'member.joined'
  | 'member.left'
  | 'member.updated'
  | 'message.created'
  | 'message.updated'
  | 'message.deleted'
  | 'message.pinned'
  | 'message.unpinned'
  | 'reaction.added'
  | 'reaction.removed'
  | 'thread.updated'
  | 'read';

/** Event types on a user's own chat topic. */
export type UserEventType =
  | 'channel.joined'
  | 'channel.left'
  | 'read.updated'
  | 'workspace.joined'
  | 'workspace.left'
  | 'workspace.updated'
  | 'user.updated';

export async function channelEvent(
  outbox: OutboxWriter,
  channelId: string,
  type: ChannelEventType,
  payload: Record<string, unknown>,
): Promise<OutboxRecord> {
  const [record] = await outbox.append([
    { type, topic: channelTopic(channelId), payload: { channelId, ...payload } },
  ]);
  return record!;
}

export async function userEvents(
  outbox: OutboxWriter,
  userIds: readonly string[],
  type: UserEventType,
  payload: Record<string, unknown>,
): Promise<OutboxRecord[]> {
  if (userIds.length === 0) return [];
  return outbox.append(userIds.map((id) => ({ type, topic: userChatTopic(id), payload })));
}
