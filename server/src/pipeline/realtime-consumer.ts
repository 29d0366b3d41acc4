// The realtime fan-out consumer: publishes every outbox event on its topic with its seq.
import type { Hub } from '../realtime/index.js';
import type { OutboxConsumer } from './consumers.js';
import { encodeOutboxEvent } from './durable-topics.js';

export const REALTIME_CONSUMER = 'realtime';

export function realtimeConsumer(hub: Pick<Hub, 'publishSequenced'>): OutboxConsumer {
  return {
    name: REALTIME_CONSUMER,
    types: ['*'],
    handle: (event) =>
      hub.publishSequenced(
        event.topic,
        event.seq,
        encodeOutboxEvent(event.type, event.payload, event.payloadJson),
      ),
  };
}
