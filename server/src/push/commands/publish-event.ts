// Publishes one event to a topic on every node.
import type { PublishRequest } from '../schemas.js';
import { viaBroker, type Publisher } from './publisher.js';

export async function publishEvent(
  hub: Publisher,
  request: PublishRequest,
): Promise<{ topic: string; seq: number | null }> {
  const { seq } = await viaBroker(() => hub.publish(request.topic, request.event));
  return { topic: request.topic, seq: seq ?? null };
}
