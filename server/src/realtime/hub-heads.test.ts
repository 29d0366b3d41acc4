// Start positions of many topics of one history source are read together: a connection that
// subscribes to many durable topics at once (a chat user's channels at connect) costs one head
// read, and ends at the same positions, with the same live events after them, as when each
// topic's head is read alone. A topic whose history the broker keeps starts at its newest seq,
// read once for any number of connections subscribing at the same moment.
import { describe, expect, it } from 'vitest';
import type { HistoryPage } from '../broker/index.js';
import { createMemoryBroker } from '../broker/index.js';
import { testLogger } from '../test-support/services.js';
import type { ConnectionSink, OutgoingEvent } from './connection.js';
import { Hub, type HistorySource } from './hub.js';

/** Durable topics `dur.*` kept in memory, counting how their heads are asked for. */
class CountingSource implements HistorySource {
  readonly events = new Map<string, string[]>();
  readonly calls = { heads: [] as string[][], headReads: 0, replays: 0 };
  failHeads = false;

  owns(topic: string): boolean {
    return topic.startsWith('dur.');
  }

  append(topic: string, count: number): number {
    const list = this.events.get(topic) ?? [];
    for (let i = 0; i < count; i++) list.push(JSON.stringify({ type: 'tick', n: list.length + 1 }));
    this.events.set(topic, list);
    return list.length;
  }

  read(topic: string, afterSeq: number, limit: number): Promise<HistoryPage> {
    if (afterSeq === Number.MAX_SAFE_INTEGER) this.calls.headReads += 1;
    else this.calls.replays += 1;
    const list = this.events.get(topic) ?? [];
    const latestSeq = list.length;
    const entries = list
      .map((data, i) => ({ seq: i + 1, data }))
      .filter((e) => e.seq > afterSeq)
      .slice(0, limit);
    return Promise.resolve({ latestSeq, complete: afterSeq <= latestSeq, entries });
  }

  heads = (topics: readonly string[]): Promise<ReadonlyMap<string, number>> => {
    this.calls.heads.push([...topics]);
    if (this.failHeads) return Promise.reject(new Error('database unavailable'));
    return Promise.resolve(new Map(topics.map((t) => [t, this.events.get(t)?.length ?? 0])));
  };
}

function setUp() {
  const broker = createMemoryBroker();
  const hub = new Hub({ broker, logger: testLogger, history: { maxLength: 100, ttlSeconds: 60 } });
  const source = new CountingSource();
  hub.addHistorySource(source);
  hub.start();
  const seen: string[] = [];
  const sink: ConnectionSink = {
    transport: 'ws',
    sendEvent(event: OutgoingEvent) {
      seen.push(`${event.topic}#${event.seq ?? '-'}`);
      return true;
    },
    sendFrame: () => true,
    bufferedBytes: () => 0,
    close: () => undefined,
  };
  return { hub, broker, source, sink, seen };
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const durable = ['dur.a', 'dur.b', 'dur.c', 'dur.empty'];

describe('hub start positions of many durable topics', () => {
  for (const failHeads of [false, true]) {
    it(
      failHeads
        ? 'falls back to one head read per topic when the batch fails, with the same positions'
        : 'reads every durable head in one call and starts each topic there',
      async () => {
        const { hub, broker, source, sink, seen } = setUp();
        source.failHeads = failHeads;
        source.append('dur.a', 3);
        source.append('dur.b', 1);
        source.append('dur.c', 7);
        hub.useDefaultTopics(() => Promise.resolve(durable));
        const connection = hub.addConnection('u1', '127.0.0.1', sink);

        const positions = await hub.subscribeDefaults(connection);

        expect(positions).toEqual({
          'user.u1': 0,
          broadcast: 0,
          'dur.a': 3,
          'dur.b': 1,
          'dur.c': 7,
          'dur.empty': 0,
        });
        // The provider is asked twice (before and after subscribing); only the first subscribes.
        expect(source.calls.heads).toEqual([durable]);
        expect(source.calls.headReads).toBe(failHeads ? durable.length : 0);
        expect(source.calls.replays).toBe(0);
        expect(seen).toEqual([]);

        // Live from there: the next event of each topic is delivered, nothing before it.
        for (const topic of durable) {
          await broker.publishSequenced(topic, source.append(topic, 1), '{"type":"tick"}');
        }
        await until(() => seen.length === durable.length);
        expect(seen.sort()).toEqual(['dur.a#4', 'dur.b#2', 'dur.c#8', 'dur.empty#1']);
      },
    );
  }

  it('resumes topics given a position from it, and reads heads only for the others', async () => {
    const { hub, source, sink, seen } = setUp();
    source.append('dur.a', 3);
    source.append('dur.b', 2);
    source.append('dur.c', 2);
    const connection = hub.addConnection('u1', '127.0.0.1', sink);
    const positions = await hub.subscribe(
      connection,
      ['dur.a', 'dur.b', 'dur.c'],
      new Map([['dur.a', 1]]),
    );
    expect(positions).toEqual({ 'dur.a': 3, 'dur.b': 2, 'dur.c': 2 });
    expect(source.calls.heads).toEqual([['dur.b', 'dur.c']]);
    expect(seen).toEqual(['dur.a#2', 'dur.a#3']);
  });

  it("starts the broker's topics at their newest seq, one read per topic for concurrent subscribers", async () => {
    const { hub, broker, sink, seen } = setUp();
    for (let i = 0; i < 3; i++) await hub.publish('news', { type: 'tick' });
    let reads = 0;
    const latestSeq = broker.latestSeq.bind(broker);
    broker.latestSeq = (topic) => {
      reads += 1;
      return latestSeq(topic);
    };
    const connections = ['u1', 'u2', 'u3'].map((id) => hub.addConnection(id, '127.0.0.1', sink));

    const positions = await Promise.all(connections.map((c) => hub.subscribe(c, ['news'])));

    expect(positions).toEqual([{ news: 3 }, { news: 3 }, { news: 3 }]);
    expect(reads).toBe(1);
    await hub.publish('news', { type: 'tick' });
    await until(() => seen.length === 3);
    expect(seen).toEqual(['news#4', 'news#4', 'news#4']);

    // A head that cannot be read starts the topic from live events (position 0).
    broker.latestSeq = () => Promise.reject(new Error('Redis is away'));
    const late = hub.addConnection('u4', '127.0.0.1', sink);
    expect(await hub.subscribe(late, ['other'])).toEqual({ other: 0 });
  });
});
