// The Redis broker against a real Redis: the shared contract in both modes, plus multi-node
// delivery, subscribe batching, reconnects and outages (through a local TCP proxy we can cut).
import { randomBytes } from 'node:crypto';
import { createServer, connect, Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { realRedisUrl, skipReason, testLogger } from '../test-support/services.js';
import { describeBrokerContract } from './broker.contract.js';
import { BrokerUnavailableError, type Broker, type BrokerState, type Delivery } from './broker.js';
import { createRedisBroker, type RedisBrokerOptions } from './redis-broker.js';

const history = { maxLength: 10, ttlSeconds: 60 };
const modes = ['perconv', 'global'] as const;

/** Records what a broker delivers and reports; `until` waits for a condition, event-driven. */
function watch(broker: Broker) {
  const received: Delivery[] = [];
  const states: BrokerState[] = [];
  const wakers = new Set<() => void>();
  const wake = () => {
    for (const waker of wakers) waker();
  };
  broker.onMessage(({ publishedAt, ...delivery }) => {
    // The publish time varies; the contract suite checks it.
    if (publishedAt === undefined) throw new Error('a delivery without its publish time');
    received.push(delivery);
    wake();
  });
  broker.onStateChange((state) => {
    states.push(state);
    wake();
  });
  async function until(check: () => boolean, what: string, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; states ${states.join(',')}, ` +
            `${received.length} deliveries`,
        );
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        wakers.add(done);
      });
    }
  }
  return { received, states, until };
}

interface Proxy {
  /** A Redis URL that reaches the real Redis through this proxy. */
  readonly url: string;
  /** Drops every connection and refuses new ones, like a Redis that went away. */
  cut(): void;
  restore(): void;
  /** Keeps connections open but forwards nothing, like a Redis that stopped answering. */
  freeze(): void;
  /** Local ports of the proxy's connections to Redis, i.e. the client ports Redis sees. */
  upstreamPorts(): number[];
  /** How many times the clients sent `command` through the proxy. */
  commandsSent(command: string): number;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const targetUrl = new URL(target);
  const host = targetUrl.hostname.replace(/^\[|\]$/g, '');
  const port = Number(targetUrl.port || 6379);
  let state: 'open' | 'refusing' | 'frozen' = 'open';
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  // Latin-1 keeps one character per byte, so RESP framing can be matched as text.
  let sent = '';
  const server = createServer((client) => {
    if (state === 'refusing') {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (state === 'frozen') return;
      sent += chunk.toString('latin1');
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (state !== 'frozen') client.write(chunk);
    });
    for (const socket of [client, upstream]) socket.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  const cut = () => {
    state = 'refusing';
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  };
  return {
    url: url.toString(),
    cut,
    restore() {
      state = 'open';
    },
    freeze() {
      state = 'frozen';
    },
    upstreamPorts: () => [...pairs].flatMap(({ upstream }) => upstream.localPort ?? []),
    commandsSent(command) {
      const pattern = new RegExp(`\\$${command.length}\\r\\n${command}\\r\\n`, 'gi');
      return sent.match(pattern)?.length ?? 0;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

it('rejects at start, naming the URL and the way out, when Redis cannot be reached', async () => {
  const startedAt = Date.now();
  const failure: unknown = await createRedisBroker({
    url: 'redis://:secret@127.0.0.1:1',
    logger: testLogger,
    mode: 'perconv',
    startupTimeoutMs: 500,
  }).then(
    (broker) => broker.close(),
    (err: unknown) => err,
  );
  expect(Date.now() - startedAt).toBeLessThan(3000);
  expect(failure).toBeInstanceOf(BrokerUnavailableError);
  const message = (failure as Error).message;
  expect(message).toContain('127.0.0.1:1');
  expect(message).toContain('REDIS_URL');
  expect(message).not.toContain('secret');
});

describe.skipIf(!realRedisUrl)(
  `Redis broker (${realRedisUrl ? 'real Redis' : `skipped: ${skipReason('Redis')}`})`,
  () => {
    const url = realRedisUrl ?? '';
    // A prefix per run keeps these keys and channels apart from anything else on the server.
    const keyPrefix = `sbtest:${randomBytes(4).toString('hex')}:`;
    const opened: Broker[] = [];
    const proxies: Proxy[] = [];
    let admin: Redis;
    let testNo = 0;
    let topicPrefix = '';
    const topic = (name: string) => `${topicPrefix}.${name}`;

    async function open(
      mode: RedisBrokerOptions['mode'],
      overrides: Partial<RedisBrokerOptions> = {},
    ): Promise<Broker> {
      const broker = await createRedisBroker({
        url,
        logger: testLogger,
        mode,
        keyPrefix,
        ...overrides,
      });
      opened.push(broker);
      return broker;
    }

    async function proxy(): Promise<Proxy> {
      const started = await startProxy(url);
      proxies.push(started);
      return started;
    }

    /** Kills, from another client, the pub/sub connections that go through `via`. */
    async function killSubscriberConnections(via: Proxy): Promise<number> {
      const ports = new Set(via.upstreamPorts());
      const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      let killed = 0;
      for (const line of list.split('\n')) {
        const id = /\bid=(\d+)/.exec(line)?.[1];
        const addr = /\baddr=(\S+)/.exec(line)?.[1];
        if (!id || !addr || !ports.has(Number(addr.slice(addr.lastIndexOf(':') + 1)))) continue;
        killed += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'ID', id));
      }
      return killed;
    }

    beforeAll(async () => {
      admin = new Redis(url, { lazyConnect: true });
      admin.on('error', () => {});
      await admin.connect();
    });
    afterAll(async () => {
      await admin.quit();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((broker) => broker.close()));
      await Promise.all(proxies.splice(0).map((started) => started.close()));
    });
    beforeEach(() => {
      topicPrefix = `t${Date.now().toString(36)}n${++testNo}`;
    });

    for (const mode of modes) {
      describeBrokerContract(`redis ${mode}`, () =>
        createRedisBroker({ url, logger: testLogger, mode, keyPrefix }),
      );
    }

    describe.each(modes)('%s mode', (mode) => {
      it('delivers across two nodes, framing any payload unchanged', async () => {
        const publisher = await open(mode);
        const receiver = await open(mode);
        const sink = watch(receiver);
        await receiver.subscribe([topic('x')]);
        const payloads = ['plain', '', '{"a":1}\n2\n\n', 'ünïcødé ✓ 🚀'];
        for (const data of payloads) await publisher.publish(topic('x'), data);
        const { seq } = await publisher.publish(topic('x'), 'kept\nline', history);
        expect(seq).toBe(1);
        await sink.until(() => sink.received.length >= 5, '5 deliveries');
        expect(sink.received).toEqual([
          ...payloads.map((data) => ({ topic: topic('x'), data })),
          { topic: topic('x'), data: 'kept\nline', seq: 1 },
        ]);
        const page = await receiver.readHistory(topic('x'), 0, 10);
        expect(page).toEqual({
          entries: [{ seq: 1, data: 'kept\nline' }],
          latestSeq: 1,
          complete: true,
        });
      });

      it('resubscribes after its pub/sub connection is killed, reporting down then up', async () => {
        const via = await proxy();
        const broker = await open(mode, { url: via.url });
        const publisher = await open(mode);
        const sink = watch(broker);
        await broker.subscribe([topic('a'), topic('b')]);
        expect(await killSubscriberConnections(via)).toBe(1);
        await sink.until(() => sink.states.length >= 2, 'down then up', 10_000);
        expect(sink.states).toEqual(['down', 'up']);
        if (mode === 'perconv') {
          const counts = await admin.pubsub(
            'NUMSUB',
            `${keyPrefix}t:${topic('a')}`,
            `${keyPrefix}t:${topic('b')}`,
          );
          expect(counts.filter((_, i) => i % 2 === 1)).toEqual([1, 1]);
        }
        await publisher.publish(topic('a'), 'after a');
        await publisher.publish(topic('b'), 'after b', history);
        await sink.until(() => sink.received.length >= 2, 'deliveries after reconnect');
        expect(sink.received).toEqual([
          { topic: topic('a'), data: 'after a' },
          { topic: topic('b'), data: 'after b', seq: 1 },
        ]);
      });
    });

    it('in global mode delivers only the topics this node subscribed to', async () => {
      const publisher = await open('global');
      const receiver = await open('global');
      const sink = watch(receiver);
      await receiver.subscribe([topic('wanted'), topic('dropped')]);
      await receiver.unsubscribe([topic('dropped')]);
      // One channel carries every topic in order, so the last delivery proves the others passed.
      await publisher.publish(topic('never'), 'n');
      await publisher.publish(topic('dropped'), 'd', history);
      await publisher.publish(topic('wanted'), 'w');
      await sink.until(() => sink.received.length >= 1, 'the wanted delivery');
      expect(sink.received).toEqual([{ topic: topic('wanted'), data: 'w' }]);
    });

    it('coalesces subscribe calls made in one tick into one SUBSCRIBE', async () => {
      const via = await proxy();
      const broker = await open('perconv', { url: via.url });
      const publisher = await open('perconv');
      const sink = watch(broker);
      const topics = Array.from({ length: 200 }, (_, i) => topic(`m${i}`));
      await Promise.all(topics.map((t) => broker.subscribe([t])));
      expect(via.commandsSent('subscribe')).toBe(1);
      await Promise.all(topics.map((t) => publisher.publish(t, t)));
      await sink.until(() => sink.received.length >= topics.length, 'a delivery per topic');
      expect(new Set(sink.received.map((d) => d.topic))).toEqual(new Set(topics));
      expect(sink.received.every((d) => d.data === d.topic)).toBe(true);
      await Promise.all(topics.map((t) => broker.unsubscribe([t])));
      expect(via.commandsSent('unsubscribe')).toBe(1);
    });

    it('sends the commands issued in one tick in one write', async () => {
      const redisPort = Number(new URL(url).port || 6379);
      const publisher = await open('perconv');
      const receiver = await open('perconv');
      const sink = watch(receiver);
      const topics = Array.from({ length: 200 }, (_, i) => topic(`w${i}`));
      await receiver.subscribe(topics);
      const toRedis = function (this: Socket) {
        return this.remotePort === redisPort;
      };
      // What a socket does when it really writes: one call per write(2) or writev(2).
      const flushing = Socket.prototype as unknown as Record<'_write' | '_writev', () => void>;
      const write = vi.spyOn(flushing, '_write');
      const writev = vi.spyOn(flushing, '_writev');
      try {
        // One tick: a fan-out's publishes, some with history, and reads of topic heads.
        const sent: Promise<unknown>[] = topics.map((t, i) =>
          i % 2 === 0
            ? publisher.publish(t, t, { maxLength: 10, ttlSeconds: 60 })
            : publisher.publishSequenced(t, 1, t),
        );
        sent.push(publisher.latestSeq(topics[0]!));
        await Promise.all(sent);
        const flushes = [...write.mock.contexts, ...writev.mock.contexts].filter((socket) =>
          toRedis.call(socket as Socket),
        );
        expect(flushes).toHaveLength(1);
      } finally {
        write.mockRestore();
        writev.mockRestore();
      }
      await sink.until(() => sink.received.length >= topics.length, 'a delivery per topic');
    });

    it('in global mode subscribes its one channel once, however many topics', async () => {
      const via = await proxy();
      const broker = await open('global', { url: via.url });
      for (let i = 0; i < 20; i++) await broker.subscribe([topic(`g${i}`)]);
      await broker.subscribe([topic('g0')]);
      expect(via.commandsSent('subscribe')).toBe(1);
    });

    it('fails fast while Redis is unreachable and recovers its topics when it is back', async () => {
      const via = await proxy();
      const broker = await open('perconv', { url: via.url });
      const publisher = await open('perconv');
      const sink = watch(broker);
      await broker.subscribe([topic('a')]);
      via.cut();
      await sink.until(() => sink.states.includes('down'), 'down');
      const startedAt = Date.now();
      await expect(broker.publish(topic('a'), 'x')).rejects.toBeInstanceOf(BrokerUnavailableError);
      await expect(broker.publish(topic('a'), 'x', history)).rejects.toBeInstanceOf(
        BrokerUnavailableError,
      );
      await expect(broker.readHistory(topic('a'), 0, 10)).rejects.toBeInstanceOf(
        BrokerUnavailableError,
      );
      await expect(broker.ping()).rejects.toBeInstanceOf(BrokerUnavailableError);
      // Rejected now, but still wanted: it is subscribed when Redis is back.
      await expect(broker.subscribe([topic('b')])).rejects.toBeInstanceOf(BrokerUnavailableError);
      expect(Date.now() - startedAt).toBeLessThan(1500);
      via.restore();
      await sink.until(() => sink.states.length >= 2, 'up', 10_000);
      expect(sink.states).toEqual(['down', 'up']);
      await expect(broker.ping()).resolves.toBeUndefined();
      await publisher.publish(topic('a'), 'a back');
      await publisher.publish(topic('b'), 'b back');
      await sink.until(() => sink.received.length >= 2, 'deliveries after the outage');
      expect(sink.received.map((d) => d.data)).toEqual(['a back', 'b back']);
    });

    it('fails ping within about a second when Redis stops answering', async () => {
      const via = await proxy();
      const broker = await open('perconv', { url: via.url });
      via.freeze();
      const startedAt = Date.now();
      await expect(broker.ping()).rejects.toBeInstanceOf(BrokerUnavailableError);
      expect(Date.now() - startedAt).toBeLessThan(2000);
    });

    it('closes idempotently and refuses work afterwards', async () => {
      const broker = await open('perconv');
      await Promise.all([broker.close(), broker.close()]);
      await broker.close();
      await expect(broker.publish(topic('a'), 'x')).rejects.toThrow('closed');
      await expect(broker.ping()).rejects.toThrow('closed');
    });
  },
);
