// The realtime guarantees with real processes: three `switchboard serve` nodes on one PostgreSQL
// database and a private Redis. Every event reaches every subscriber on every node exactly once and
// in order; a client that reconnects to another node resumes without a gap; neither a node killed
// with SIGKILL mid-stream nor a Redis restart loses or repeats an acknowledged event.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configKeys } from '../server/src/config/index.js';
import { userTopic } from '../server/src/realtime/topics.js';
import { freePort, spawnCli, waitFor } from '../server/src/test-support/processes.js';
import {
  createTestDatabase,
  makeTempDir,
  testLogger,
} from '../server/src/test-support/services.js';
import {
  clusterSkipReason,
  startNode,
  startPrivateRedis,
  tokenMinter,
  type ClusterNode,
  type PrivateRedis,
} from './support/cluster.js';
import { createTestPublisher, type Acked, type TestPublisher } from './support/publisher.js';
import { ResumingClient } from './support/resuming-client.js';

const skip = clusterSkipReason();

const NODE_COUNT = 3;
// Short, so that a dead node's users go offline within seconds (bound: this plus at most 5 s).
const PRESENCE_LEASE_SECONDS = 4;
const built = (path: string) =>
  existsSync(fileURLToPath(new URL(`../server/dist/${path}`, import.meta.url)));
const hasPublishApi = built('push/index.js');
const hasPresence = built('realtime/presence.js');
// Generous: the machine is shared and these run real processes.
const SCENARIO_TIMEOUT_MS = 180_000;
// The publisher stamps history exactly as a node with default settings does.
const history = {
  maxLength: configKeys.REALTIME_HISTORY_SIZE.schema.parse(undefined),
  ttlSeconds: configKeys.REALTIME_HISTORY_TTL_SECONDS.schema.parse(undefined),
};

/** The measured numbers are part of what these tests are for, so they go to the test output. */
function report(line: string): void {
  process.stdout.write(`[realtime-cluster] ${line}\n`);
}

function summarize(values: number[]): string {
  if (values.length === 0) return 'none';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `n=${sorted.length} min=${sorted[0]} p50=${at(0.5)} max=${sorted.at(-1)} ms`;
}

/**
 * Asserts that `client` received on `topic` exactly the acknowledged publishes, in order, once
 * each, and nothing else (the final sentinel, published last, is the only other event allowed).
 */
function expectExactly(client: ResumingClient, topic: string, acked: readonly Acked[]): void {
  const got = client.received(topic).map((e) => `${e.seq}:${e.n}`);
  expect(got, client.describe(topic)).toEqual(acked.map((a) => `${a.seq}:${a.n}`));
}

describe.skipIf(skip)(
  `realtime cluster: ${NODE_COUNT} nodes on one database and a private Redis${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    const nodes: ClusterNode[] = [];
    const down = new Set<number>();
    const ports: number[] = [];
    const jwtSecret = randomBytes(32).toString('hex');
    const token = tokenMinter(jwtSecret);
    let redis: PrivateRedis;
    let databaseUrl: string;
    let workDir: string;
    let publisher: TestPublisher;
    const clients: ResumingClient[] = [];

    const wsUrls = () => ports.map((port) => `ws://127.0.0.1:${port}`);

    async function launch(index: number): Promise<ClusterNode> {
      const node = await startNode({
        index,
        port: ports[index]!,
        databaseUrl,
        redisUrl: redis.url,
        jwtSecret,
        workDir,
        env: { PRESENCE_LEASE_SECONDS: String(PRESENCE_LEASE_SECONDS) },
      });
      nodes[index] = node;
      down.delete(index);
      return node;
    }

    async function makeClient(
      name: string,
      node: number,
      topics: readonly string[],
    ): Promise<ResumingClient> {
      const client = new ResumingClient({
        name,
        token: await token(name, { topics: ['load.*'] }),
        topics: [...topics, userTopic(name)],
        nodes: wsUrls(),
        isDown: (n) => down.has(n),
      });
      clients.push(client);
      await client.connect(node);
      return client;
    }

    /** A server API key for the publish API, made with `switchboard apikey create`. */
    async function createApiKey(): Promise<string> {
      const cli = spawnCli(['apikey', 'create', '--name', 'cluster tests', '--json'], {
        cwd: workDir,
        env: { DATABASE_URL: databaseUrl, DATA_DIR: join(workDir, 'cli'), LOG_LEVEL: 'warn' },
      });
      const exit = await cli.waitForExit(60_000);
      expect(exit.code, cli.output()).toBe(0);
      const line = cli
        .output()
        .split('\n')
        .find((l) => l.includes('"key"'));
      const created = JSON.parse(line ?? '{}') as { key?: unknown };
      if (typeof created.key !== 'string') throw new Error(`no key in: ${cli.output()}`);
      return created.key;
    }

    /** Publishes one more event per topic and waits for every client to have it. */
    async function publishSentinels(
      topics: Map<string, Acked[]>,
      subscribers: (topic: string) => ResumingClient[],
    ): Promise<void> {
      for (const [topic, acked] of topics) {
        const n = 1_000_000 + acked.length;
        const seq = await publisher.publish(topic, n);
        acked.push({ n, seq });
        await Promise.all(
          subscribers(topic).map((client) =>
            client.until(
              `the sentinel on ${topic}`,
              () => client.received(topic).some((e) => e.seq >= seq),
              60_000,
            ),
          ),
        );
      }
    }

    beforeAll(async () => {
      const dir = makeTempDir('sb-cluster-');
      cleanups.push(() => dir.remove());
      workDir = dir.path;
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      databaseUrl = database.url;
      redis = await startPrivateRedis(workDir);
      cleanups.push(() => redis.kill());
      for (let i = 0; i < NODE_COUNT; i++) ports.push(await freePort());
      const started = Date.now();
      // Started together: the migration lock lets one migrate while the others wait.
      await Promise.all(ports.map((_, i) => launch(i)));
      cleanups.push(() => Promise.all(nodes.map((node) => node.process.kill())));
      report(`${NODE_COUNT} nodes ready in ${Date.now() - started} ms`);
      publisher = await createTestPublisher(redis.url, history);
      cleanups.push(() => publisher.close());
    }, SCENARIO_TIMEOUT_MS);

    afterAll(async () => {
      for (const client of clients) await client.disconnect();
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (err) {
          testLogger.warn({ err }, 'cleanup failed');
        }
      }
    });

    it(
      'delivers every event to subscribers on every node, in order, exactly once',
      async () => {
        const topic = 'load.delivery';
        const group: ResumingClient[] = [];
        for (let i = 0; i < NODE_COUNT * 2; i++) {
          group.push(await makeClient(`deliver-${i}`, i % NODE_COUNT, [topic]));
        }
        const acked = new Map<string, Acked[]>([[topic, []]]);
        for (const client of group) acked.set(userTopic(clientName(client)), []);
        const started = Date.now();
        for (let n = 1; n <= 300; n++) {
          acked.get(topic)!.push({ n, seq: await publisher.publish(topic, n) });
          if (n % 10 === 0) {
            for (const client of group) {
              const own = userTopic(clientName(client));
              acked.get(own)!.push({ n, seq: await publisher.publish(own, n) });
            }
          }
        }
        await publishSentinels(acked, (t) =>
          t === topic ? group : group.filter((c) => userTopic(clientName(c)) === t),
        );
        report(
          `delivery: ${acked.get(topic)!.length} shared + ${NODE_COUNT * 2}x${acked.get(userTopic('deliver-0'))!.length} user events to ${group.length} clients on ${NODE_COUNT} nodes in ${Date.now() - started} ms`,
        );
        for (const client of group) {
          expectExactly(client, topic, acked.get(topic)!);
          const own = userTopic(clientName(client));
          expectExactly(client, own, acked.get(own)!);
          expect(client.notices).toEqual([]);
          await client.disconnect();
        }
      },
      SCENARIO_TIMEOUT_MS,
    );

    it.skipIf(!hasPublishApi)(
      'delivers events published through the HTTP publish API of any node to subscribers on every node',
      async () => {
        const key = await createApiKey();
        const topic = 'load.http';
        const group: ResumingClient[] = [];
        for (let i = 0; i < NODE_COUNT; i++) {
          group.push(await makeClient(`http-${i}`, i, [topic]));
        }
        const acked: Acked[] = [];
        const started = Date.now();
        for (let n = 1; n <= 150; n++) {
          const node = nodes[n % NODE_COUNT]!;
          const response = await fetch(`${node.url}/api/v1/publish`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ topic, event: { type: 'load.tick', n } }),
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await response.json()) as { seq?: unknown };
          expect(response.status, JSON.stringify(body)).toBe(200);
          expect(typeof body.seq).toBe('number');
          acked.push({ n, seq: body.seq as number });
        }
        await publishSentinels(new Map([[topic, acked]]), () => group);
        report(
          `http publish: ${acked.length} events through POST /api/v1/publish on ${NODE_COUNT} nodes in turn, to ${group.length} clients, in ${Date.now() - started} ms`,
        );
        for (const client of group) {
          expectExactly(client, topic, acked);
          expect(client.notices).toEqual([]);
          await client.disconnect();
        }
      },
      SCENARIO_TIMEOUT_MS,
    );

    it(
      'resumes on a different node with every missed event exactly once, in order',
      async () => {
        const topic = 'load.resume';
        const client = await makeClient('resumer', 0, [topic]);
        const own = userTopic('resumer');
        const acked = new Map<string, Acked[]>([
          [topic, []],
          [own, []],
        ]);
        const publishBoth = async (from: number, to: number) => {
          for (let n = from; n <= to; n++) {
            acked.get(topic)!.push({ n, seq: await publisher.publish(topic, n) });
            acked.get(own)!.push({ n, seq: await publisher.publish(own, n) });
          }
        };
        await publishBoth(1, 10);
        await client.until('the first 10 events on both topics', () => client.events.length === 20);
        await client.disconnect();

        const missed = 500;
        await publishBoth(11, 10 + missed);
        const reconnectStarted = Date.now();
        await client.connect(1);
        const reconnectMs = Date.now() - reconnectStarted;
        await publishBoth(11 + missed, 20 + missed);
        await publishSentinels(acked, () => [client]);
        report(
          `resume: ${missed} missed events per topic on 2 topics replayed on another node; reconnect + resume took ${reconnectMs} ms`,
        );
        expectExactly(client, topic, acked.get(topic)!);
        expectExactly(client, own, acked.get(own)!);
        expect(client.notices).toEqual([]);
        const replayedBy = new Set(client.events.filter((e) => e.n > 10).map((e) => e.node));
        expect([...replayedBy]).toEqual([1]);
        await client.disconnect();
      },
      SCENARIO_TIMEOUT_MS,
    );

    it(
      'survives kill -9 of a node streaming 1,000 events/s: its clients resume elsewhere, nothing lost or repeated',
      async () => {
        const topic = 'load.chaos';
        const victim = NODE_COUNT - 1;
        const group: ResumingClient[] = [];
        for (let i = 0; i < NODE_COUNT * 3; i++) {
          const client = await makeClient(`chaos-${i}`, i % NODE_COUNT, [topic]);
          client.keepConnected();
          group.push(client);
        }
        const onVictim = group.filter((c) => c.node === victim);
        const durationMs = 5000;
        const shared = publisher.stream({ topics: [topic], perSecond: 1000, durationMs });
        const perUser = publisher.stream({
          topics: group.map((c) => userTopic(clientName(c))),
          perSecond: 10 * group.length,
          durationMs,
        });
        // Kill it once it is visibly streaming to its clients.
        await Promise.all(
          onVictim.map((c) =>
            c.until('the victim node streaming', () => c.received(topic).length >= 1000),
          ),
        );
        const killedAt = Date.now();
        await nodes[victim]!.process.kill();
        down.add(victim);
        const receivedBeforeKill = onVictim.map((c) => c.received(topic).length);
        const [sharedReport, userReport] = await Promise.all([shared, perUser]);
        for (const client of onVictim) {
          await client.until('a reconnect', () => client.reconnects.length > 0, 30_000);
        }
        const acked = new Map([...sharedReport.acked, ...userReport.acked]);
        await publishSentinels(acked, (t) =>
          t === topic ? group : group.filter((c) => userTopic(clientName(c)) === t),
        );
        const sharedCount = sharedReport.acked.get(topic)!.length;
        report(
          `kill -9: published ${sharedCount} shared events in ${sharedReport.durationMs} ms (${Math.round((sharedCount / sharedReport.durationMs) * 1000)}/s) + ${[...userReport.acked.values()].reduce((s, a) => s + a.length, 0)} user events; failed publishes ${sharedReport.failed + userReport.failed}`,
        );
        report(
          `kill -9: node-${victim + 1} killed ${Date.now() - killedAt} ms before the end check, after its clients had ${receivedBeforeKill.join('/')} events; reconnects ${summarize(onVictim.flatMap((c) => c.reconnects.map((r) => r.ms)))}`,
        );
        report(
          `kill -9: per-client events on ${topic}: ${group.map((c) => `${clientName(c)}=${c.received(topic).length}`).join(' ')}`,
        );
        expect(sharedReport.failed + userReport.failed).toBe(0);
        for (const client of group) {
          expectExactly(client, topic, acked.get(topic)!);
          const own = userTopic(clientName(client));
          expectExactly(client, own, acked.get(own)!);
          expect(client.notices).toEqual([]);
        }
        for (const client of onVictim) expect(client.node).not.toBe(victim);
        for (const client of group) await client.disconnect();
      },
      SCENARIO_TIMEOUT_MS,
    );

    it.skipIf(!hasPresence)(
      'presence: the users of a killed node go offline within the lease bound, as seen from another node',
      async () => {
        if (down.size > 0) await Promise.all([...down].map((i) => launch(i)));
        const victim = 1;
        const away: ResumingClient[] = [];
        for (let i = 0; i < 3; i++) away.push(await makeClient(`away-${i}`, victim, []));
        const userIds = away.map(clientName);
        const watcher = await makeClient('watcher', 0, []);
        type Entry = { userId: string; online: boolean };
        const ask = async () =>
          ((await watcher.request({ op: 'presence', userIds, watch: true })).presence ??
            []) as Entry[];
        await waitFor(
          'the users to be online as node-1 sees them',
          async () => ((await ask()).every((e) => e.online) ? true : undefined),
          { timeoutMs: 30_000 },
        );
        const killedAt = Date.now();
        await nodes[victim]!.process.kill();
        down.add(victim);
        const wentOffline = (userId: string) =>
          watcher.otherEvents.some(
            (e) => e.type === 'presence.changed' && e.userId === userId && e.online === false,
          );
        const boundMs = (PRESENCE_LEASE_SECONDS + 5) * 1000;
        await watcher.until(
          'presence.changed offline for every user of the killed node',
          () => userIds.every(wentOffline),
          boundMs + 30_000,
        );
        const offlineMs = Date.now() - killedAt;
        report(
          `presence: ${userIds.length} users of killed node-${victim + 1} offline on node-1 ${offlineMs} ms after kill -9 (lease ${PRESENCE_LEASE_SECONDS} s, documented bound ${boundMs} ms)`,
        );
        // Timers on this shared machine run late by up to a few seconds under load.
        expect(offlineMs).toBeLessThanOrEqual(boundMs + 3000);
        expect((await ask()).map((e) => e.online)).toEqual(userIds.map(() => false));
        await watcher.disconnect();
      },
      SCENARIO_TIMEOUT_MS,
    );

    it(
      'recovers by itself when Redis is restarted mid-stream: every acknowledged event arrives once, in order',
      async () => {
        if (down.size > 0) await Promise.all([...down].map((i) => launch(i)));
        const topic = 'load.redis-restart';
        const group: ResumingClient[] = [];
        for (let i = 0; i < NODE_COUNT * 2; i++) {
          const client = await makeClient(`redis-${i}`, i % NODE_COUNT, [topic]);
          client.keepConnected();
          group.push(client);
        }
        const stream = publisher.stream({ topics: [topic], perSecond: 500, durationMs: 6000 });
        await Promise.all(
          group.map((c) => c.until('the stream flowing', () => c.received(topic).length >= 500)),
        );
        const killedAt = Date.now();
        await redis.kill();
        // Down long enough for publishes to fail and every connection to notice.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await redis.start();
        const restartedMs = Date.now() - killedAt;
        const streamed = await stream;
        const acked = streamed.acked;
        // The publisher's own connection may still be reconnecting: retry the sentinel until it is.
        const recoveredAt = Date.now();
        await waitForPublisher();
        await publishSentinels(acked, () => group);
        const recoveryMs = Date.now() - recoveredAt;
        const ackedSeqs = new Set(acked.get(topic)!.map((a) => a.seq));
        report(
          `redis restart: ${acked.get(topic)!.length} acknowledged, ${streamed.failed} failed publishes; Redis down for ${restartedMs} ms; all clients complete ${recoveryMs} ms after the stream ended; client reconnects ${group.reduce((s, c) => s + c.reconnects.length, 0)}`,
        );
        report(
          `redis restart: per-client events: ${group.map((c) => `${clientName(c)}=${c.received(topic).length}`).join(' ')}`,
        );
        for (const client of group) {
          const got = client.received(topic);
          const seqs = got.map((e) => e.seq);
          // In order, once each, no gaps (a publish whose ack was lost may still have happened).
          expect(seqs, client.describe(topic)).toEqual(
            Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i),
          );
          expect(seqs[0]).toBe(1);
          const missing = [...ackedSeqs].filter((s) => !seqs.includes(s));
          expect(missing, `${clientName(client)} missing acknowledged seqs`).toEqual([]);
          const unacked = seqs.filter((s) => !ackedSeqs.has(s));
          expect(unacked.length).toBeLessThanOrEqual(streamed.failed);
          expect(client.notices).toEqual([]);
        }
        for (const client of group) await client.disconnect();

        async function waitForPublisher(): Promise<void> {
          const deadline = Date.now() + 30_000;
          for (;;) {
            try {
              const seq = await publisher.publish(topic, 2_000_000);
              acked.get(topic)!.push({ n: 2_000_000, seq });
              return;
            } catch (err) {
              if (Date.now() > deadline) throw err;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        }
      },
      SCENARIO_TIMEOUT_MS,
    );
  },
);

const clientName = (client: ResumingClient) => client.name;
