// Pushes one event to many users' own topics (`user.{id}`), encoded once.
import type { PushRequest } from '../schemas.js';
import { viaBroker, type Publisher } from './publisher.js';

/**
 * `delivered` counts the distinct users the event was published to (their `user.{id}` topics),
 * whether or not they are connected anywhere; connections that resume their user topic within
 * the history window catch up on it.
 */
export async function pushEvent(
  hub: Publisher,
  request: PushRequest,
): Promise<{ delivered: number }> {
  const userIds = [...new Set(request.userIds)];
  await viaBroker(() => hub.push(userIds, request.event));
  return { delivered: userIds.length };
}
