// Publishes one event to every connection on every node.
import type { BroadcastRequest } from '../schemas.js';
import { viaBroker, type Publisher } from './publisher.js';

export async function broadcastEvent(
  hub: Publisher,
  request: BroadcastRequest,
): Promise<{ seq: number | null }> {
  const { seq } = await viaBroker(() => hub.broadcast(request.event));
  return { seq: seq ?? null };
}
