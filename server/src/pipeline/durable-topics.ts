// Durable topics: their events are sequenced by the outbox writer and their history is the
// outbox itself, so a client that missed a publish reads it back from PostgreSQL on resume.
import type { HistoryPage } from '../broker/index.js';
import { encodeEvent, type HistorySource } from '../realtime/index.js';
import type { Executor } from '../store/index.js';
import { readTopic, readTopicHeads } from './outbox-queries.js';

/**
 * The wire form of an outbox event: its payload with `type` first, as every consumer sees it.
 * Given the payload's JSON text, `type` is put in front of it instead of encoding it again.
 */
export function encodeOutboxEvent(
  type: string,
  payload: Record<string, unknown>,
  payloadJson?: string,
): string {
  if (payloadJson === undefined || Object.hasOwn(payload, 'type')) {
    return encodeEvent({ ...payload, type });
  }
  const typePart = `{"type":${JSON.stringify(type)}`;
  return payloadJson === '{}' ? `${typePart}}` : `${typePart},${payloadJson.slice(1)}`;
}

export class DurableTopics implements HistorySource {
  private readonly prefixes = new Set<string>();

  constructor(private readonly db: Executor) {}

  /** Makes every topic starting with `prefix` durable (modules call this at start-up). */
  addPrefix(prefix: string): void {
    if (!prefix) throw new Error('a durable topic prefix must not be empty');
    this.prefixes.add(prefix);
  }

  owns(topic: string): boolean {
    for (const prefix of this.prefixes) if (topic.startsWith(prefix)) return true;
    return false;
  }

  /** Every topic's seq row in one statement; a topic without events yet is at 0. */
  async heads(topics: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const found = await readTopicHeads(this.db, topics);
    return new Map(topics.map((topic) => [topic, found.get(topic) ?? 0]));
  }

  async read(topic: string, afterSeq: number, limit: number): Promise<HistoryPage> {
    const { latestSeq: head, entries } = await readTopic(this.db, topic, afterSeq, limit);
    // Rows committed between the two reads may run past the head read first.
    const latestSeq = Math.max(head, entries.at(-1)?.seq ?? 0);
    const first = entries[0];
    const complete =
      afterSeq <= latestSeq && (first ? first.seq === afterSeq + 1 : afterSeq === latestSeq);
    return {
      latestSeq,
      complete,
      entries: complete
        ? entries.map((e) => ({ seq: e.seq, data: encodeOutboxEvent(e.type, e.payload) }))
        : [],
    };
  }
}
