// Presence over hubs and a shared store on the current target (memory, or real Redis with one
// broker and one store connection per node): batching, several devices, several nodes, a node
// that stops renewing its lease, and graceful removal.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMemoryBroker, type Broker } from '../broker/index.js';
import { waitFor } from '../test-support/processes.js';
import { realRedisUrl, target, testLogger } from '../test-support/services.js';
import type { ConnectionSink } from './connection.js';
import { Hub } from './hub.js';
import { Presence } from './presence.js';
import { createMemoryPresenceStore } from './presence-store-memory.js';
import type { PresenceStore } from './presence-store.js';
import { presenceTopic } from './topics.js';

interface Node {
  id: string;
  hub: Hub;
  presence: Presence;
  store: PresenceStore & { cut(): void; restore(): void };
}

/** Forwards to a store until cut off, then fails every call (a node that lost its store). */
function cuttable(inner: PresenceStore): PresenceStore & { cut(): void; restore(): void } {
  let cut = false;
  const guard = <T>(call: () => Promise<T>) =>
    cut ? Promise.reject(new Error('cut off from the presence store')) : call();
  return {
    kind: inner.kind,
    apply: (...a) => guard(() => inner.apply(...a)),
    refresh: (...a) => guard(() => inner.refresh(...a)),
    query: (...a) => guard(() => inner.query(...a)),
    reap: (...a) => guard(() => inner.reap(...a)),
    removeNode: (...a) => guard(() => inner.removeNode(...a)),
    close: () => inner.close(),
    cut: () => {
      cut = true;
    },
    restore: () => {
      cut = false;
    },
  };
}

const sink = (events?: Array<Record<string, unknown>>): ConnectionSink => ({
  transport: 'ws',
  sendEvent(event) {
    events?.push({ topic: event.topic, ...(JSON.parse(event.data) as object) });
    return true;
  },
  sendFrame: () => true,
  bufferedBytes: () => 0,
  close: () => undefined,
});

describe(`presence across hubs (${target})`, () => {
  const cleanups: Array<() => Promise<void>> = [];
  const run = randomBytes(4).toString('hex');
  const keyPrefix = `sbtest:${run}:`;
  const user = (name: string) => `${name}-${run}`;
  let sharedBroker: Broker | undefined;
  let sharedStore: PresenceStore | undefined;
  let nodeNo = 0;

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    sharedBroker = undefined;
    sharedStore = undefined;
  });
  afterAll(async () => {
    if (!realRedisUrl) return;
    const redis = new Redis(realRedisUrl);
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  /** A node: its own broker and store connection on Redis; shared memory twins otherwise. */
  async function startNode(leaseMs = 60_000): Promise<Node> {
    const id = `node-${run}-${++nodeNo}`;
    let broker: Broker;
    let inner: PresenceStore;
    if (realRedisUrl) {
      const { createRedisBroker } = await import('../broker/redis-broker.js');
      const { createRedisPresenceStore } = await import('./presence-store-redis.js');
      broker = await createRedisBroker({
        url: realRedisUrl,
        logger: testLogger,
        mode: 'perconv',
        keyPrefix,
      });
      const redis = new Redis(realRedisUrl);
      inner = createRedisPresenceStore({ redis, keyPrefix });
      cleanups.push(async () => {
        await broker.close();
        await redis.quit();
      });
    } else {
      broker = sharedBroker ??= createMemoryBroker();
      inner = sharedStore ??= createMemoryPresenceStore();
    }
    const hub = new Hub({
      broker,
      logger: testLogger,
      history: { maxLength: 100, ttlSeconds: 60 },
    });
    hub.start();
    const store = cuttable(inner);
    const presence = new Presence({ hub, store, nodeId: id, logger: testLogger, leaseMs });
    await presence.start();
    cleanups.push(async () => {
      store.restore();
      await presence.stop();
      hub.stop();
    });
    return { id, hub, presence, store };
  }

  /** A connection on `node` that watches the users' presence topics and records the events. */
  async function watch(node: Node, userIds: string[]) {
    const events: Array<Record<string, unknown>> = [];
    const watcher = node.hub.addConnection(user('watcher'), '127.0.0.1', sink(events));
    await node.hub.subscribe(watcher, userIds.map(presenceTopic));
    const of = (id: string) => events.filter((e) => e.userId === id);
    return {
      events,
      of,
      until: (what: string, ok: () => boolean, timeoutMs = 10_000) =>
        waitFor(what, () => Promise.resolve(ok() ? true : undefined), {
          timeoutMs,
          intervalMs: 20,
        }),
    };
  }

  const connect = (node: Node, userId: string) =>
    node.hub.addConnection(userId, '127.0.0.1', sink());

  it('batches the changes of 120 users into a few writes, and every one is online', async () => {
    const node = await startNode();
    const users = Array.from({ length: 120 }, (_, i) => user(`batch${i}`));
    const seen = await watch(node, users);
    const before = node.presence.flushes;
    for (const id of users) connect(node, id);
    await seen.until('120 online events', () => seen.events.length >= 120);
    const writes = node.presence.flushes - before;
    expect(writes).toBeGreaterThanOrEqual(2); // 50 at once cannot wait for the timer
    expect(writes).toBeLessThanOrEqual(4);
    expect(seen.events.every((e) => e.type === 'presence.changed' && e.online === true)).toBe(true);
    expect(new Set(seen.events.map((e) => e.userId)).size).toBe(120);
    const states = await node.presence.query(users);
    expect([...states.values()].every((s) => s.online && s.connections === 1)).toBe(true);
  });

  it('keeps a user online while one of two devices stays, then reports one offline', async () => {
    const node = await startNode();
    const id = user('multi');
    const seen = await watch(node, [id]);
    const phone = connect(node, id);
    const laptop = connect(node, id);
    await seen.until('online', () => seen.of(id).length === 1);
    await node.presence.flush();
    expect((await node.presence.query([id])).get(id)).toEqual({ online: true, connections: 2 });
    node.hub.removeConnection(phone);
    await node.presence.flush();
    expect((await node.presence.query([id])).get(id)).toEqual({ online: true, connections: 1 });
    node.hub.removeConnection(laptop);
    await seen.until('offline', () => seen.of(id).length === 2);
    const offline = seen.of(id)[1]!;
    expect(offline).toMatchObject({ type: 'presence.changed', userId: id, online: false });
    expect(typeof offline.lastSeen).toBe('number');
    expect(await node.presence.isOnline(id)).toBe(false);
    // Nothing else follows: a flush with no change and another round trip add no event.
    await node.presence.flush();
    expect(seen.of(id).map((e) => e.online)).toEqual([true, false]);
  });

  it('sees users of other nodes, and a user on two nodes stays online while one remains', async () => {
    const a = await startNode();
    const b = await startNode();
    const onA = user('onA');
    const onBoth = user('onBoth');
    const seen = await watch(a, [onA, onBoth]);
    connect(a, onA);
    connect(a, onBoth);
    const onB = connect(b, onBoth);
    await a.presence.flush();
    await b.presence.flush();
    const fromB = await b.presence.query([onA, onBoth]);
    expect(fromB.get(onA)).toEqual({ online: true, connections: 1 });
    expect(fromB.get(onBoth)).toEqual({ online: true, connections: 2 });
    b.hub.removeConnection(onB);
    await b.presence.flush();
    expect((await a.presence.query([onBoth])).get(onBoth)).toEqual({
      online: true,
      connections: 1,
    });
    await seen.until('both online', () => seen.events.length === 2);
    expect(seen.events.every((e) => e.online === true)).toBe(true);
  });

  it('reports the users of a node that stops renewing its lease offline within the bound', async () => {
    const leaseMs = 1500;
    const a = await startNode(leaseMs);
    const b = await startNode(leaseMs);
    const lost = user('lost');
    const both = user('both');
    const seen = await watch(a, [lost, both]);
    connect(b, lost);
    connect(b, both);
    connect(a, both);
    await b.presence.flush();
    await a.presence.flush();
    await seen.until('online', () => seen.events.length === 2);

    b.store.cut(); // b keeps running but can no longer renew: to the cluster it is dead
    const cutAt = Date.now();
    await seen.until('offline after the lease', () => seen.of(lost).length === 2, leaseMs + 8000);
    // Lease plus one reap interval, with room for a busy machine.
    expect(Date.now() - cutAt).toBeLessThan(leaseMs + 6000);
    expect(seen.of(lost)[1]).toMatchObject({ online: false });
    expect(seen.of(both)).toHaveLength(1); // still on a
    expect((await a.presence.query([lost])).get(lost)?.online).toBe(false);

    // When b reaches the store again it finds its lease gone and writes its users back.
    b.store.restore();
    await seen.until('back online', () => seen.of(lost).length === 3, leaseMs + 8000);
    expect(seen.of(lost)[2]).toMatchObject({ online: true });
    expect((await a.presence.query([both])).get(both)).toEqual({ online: true, connections: 2 });
  });

  it('removes its entries at a graceful stop, so its users go offline at once', async () => {
    const a = await startNode();
    const b = await startNode();
    const leaving = user('leaving');
    const staying = user('staying');
    const seen = await watch(a, [leaving, staying]);
    connect(b, leaving);
    connect(b, staying);
    connect(a, staying);
    await b.presence.flush();
    await a.presence.flush();
    await seen.until('online', () => seen.events.length === 2);
    await b.presence.stop();
    await seen.until('offline', () => seen.of(leaving).length === 2, 5000);
    expect(seen.of(staying)).toHaveLength(1);
    expect((await a.presence.query([staying])).get(staying)).toEqual({
      online: true,
      connections: 1,
    });
  });
});
