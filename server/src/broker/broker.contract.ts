// The behaviour every Broker implementation must have; each implementation's test runs it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Broker, Delivery } from './broker.js';

const history = { maxLength: 5, ttlSeconds: 60 };

function collect(broker: Broker) {
  const received: Delivery[] = [];
  const waiters: Array<() => void> = [];
  broker.onMessage((d) => {
    received.push(d);
    for (const w of waiters.splice(0)) w();
  });
  return {
    received,
    async waitFor(count: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} deliveries, got ${received.length}`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return received;
    },
  };
}

export function describeBrokerContract(name: string, makeBroker: () => Promise<Broker>) {
  describe(`Broker contract: ${name}`, () => {
    let broker: Broker;
    let topicPrefix: string;
    beforeEach(async () => {
      broker = await makeBroker();
      topicPrefix = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    });
    afterEach(async () => {
      await broker.close();
    });
    const topic = (n: string) => `${topicPrefix}.${n}`;

    it('delivers to a subscribed topic in publish order', async () => {
      const sink = collect(broker);
      await broker.subscribe([topic('a')]);
      for (let i = 0; i < 20; i++) await broker.publish(topic('a'), `m${i}`);
      const got = await sink.waitFor(20);
      expect(got.map((d) => d.data)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(got.every((d) => d.topic === topic('a'))).toBe(true);
    });

    it('does not deliver topics that are not subscribed, or after unsubscribe', async () => {
      const sink = collect(broker);
      await broker.subscribe([topic('a'), topic('b')]);
      await broker.publish(topic('other'), 'x');
      await broker.unsubscribe([topic('b')]);
      await broker.publish(topic('b'), 'y');
      await broker.publish(topic('a'), 'z');
      const got = await sink.waitFor(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(got.map((d) => d.data)).toEqual(['z']);
    });

    it('subscribing twice is the same as once', async () => {
      const sink = collect(broker);
      await broker.subscribe([topic('a')]);
      await broker.subscribe([topic('a')]);
      await broker.publish(topic('a'), 'once');
      await sink.waitFor(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.received).toHaveLength(1);
    });

    it('assigns increasing seqs with history and delivers them', async () => {
      const sink = collect(broker);
      await broker.subscribe([topic('h')]);
      const seqs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { seq } = await broker.publish(topic('h'), `e${i}`, history);
        seqs.push(seq ?? -1);
      }
      expect(seqs).toEqual([1, 2, 3]);
      const got = await sink.waitFor(3);
      expect(got.map((d) => d.seq)).toEqual([1, 2, 3]);
    });

    it('delivers a seq assigned elsewhere as given, and keeps no history for it', async () => {
      const sink = collect(broker);
      await broker.subscribe([topic('d')]);
      await broker.publishSequenced(topic('d'), 41, '{"type":"a"}');
      await broker.publishSequenced(topic('d'), 42, '{"type":"b"}');
      const got = await sink.waitFor(2);
      expect(got.map((d) => [d.seq, d.data])).toEqual([
        [41, '{"type":"a"}'],
        [42, '{"type":"b"}'],
      ]);
      expect(got.every((d) => d.publishedAt !== undefined)).toBe(true);
      expect((await broker.readHistory(topic('d'), 0, 10)).entries).toEqual([]);
    });

    it('stamps every delivery with its publish time', async () => {
      const sink = collect(broker);
      await broker.subscribe([topic('t')]);
      const before = Date.now();
      await broker.publish(topic('t'), 'plain');
      await broker.publish(topic('t'), 'kept', history);
      const got = await sink.waitFor(2);
      for (const delivery of got) {
        expect(delivery.publishedAt).toBeGreaterThanOrEqual(before);
        expect(delivery.publishedAt).toBeLessThanOrEqual(Date.now());
      }
    });

    it('reads history after a seq, and says when it no longer covers it', async () => {
      for (let i = 1; i <= 8; i++) await broker.publish(topic('h'), `e${i}`, history);
      const recent = await broker.readHistory(topic('h'), 5, 100);
      expect(recent.complete).toBe(true);
      expect(recent.latestSeq).toBe(8);
      expect(recent.entries.map((e) => [e.seq, e.data])).toEqual([
        [6, 'e6'],
        [7, 'e7'],
        [8, 'e8'],
      ]);
      const limited = await broker.readHistory(topic('h'), 3, 2);
      expect(limited.complete).toBe(true);
      expect(limited.entries.map((e) => e.seq)).toEqual([4, 5]);
      const trimmed = await broker.readHistory(topic('h'), 1, 100);
      expect(trimmed.complete).toBe(false);
      const future = await broker.readHistory(topic('h'), 99, 100);
      expect(future.complete).toBe(false);
    });

    it('reports an empty, complete history for a fresh topic read from the start', async () => {
      const page = await broker.readHistory(topic('none'), 0, 10);
      expect(page).toEqual({ entries: [], latestSeq: 0, complete: true });
    });

    it('tells the newest seq of a topic without reading its history', async () => {
      expect(await broker.latestSeq(topic('head'))).toBe(0);
      for (let i = 1; i <= 3; i++) await broker.publish(topic('head'), `e${i}`, history);
      expect(await broker.latestSeq(topic('head'))).toBe(3);
      expect(await broker.latestSeq(topic('head'))).toBe(
        (await broker.readHistory(topic('head'), 0, 1)).latestSeq,
      );
      // A seq assigned elsewhere keeps no history here, so it moves nothing.
      await broker.publishSequenced(topic('head'), 40, 'durable');
      expect(await broker.latestSeq(topic('head'))).toBe(3);
    });

    it('answers ping while open', async () => {
      await expect(broker.ping()).resolves.toBeUndefined();
    });
  });
}
