// The durable pipeline under faults, with real `switchboard serve` processes on one fresh
// PostgreSQL database and a private Redis. A TCP proxy in front of Redis fails one process's
// connection without touching the shared services. Proven here: a process killed with SIGKILL
// between its commit and its publish loses nothing (a relay worker elsewhere publishes what it
// left, once, in order); a 30 s broker outage accumulates rows without dead-lettering any, with
// workers backing off, and everything drains once the broker is back; and the first holds with
// every process's database connections going through PgBouncer in transaction pooling mode.
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configKeys } from '../server/src/config/index.js';
import { createApiKey } from '../server/src/push/commands/create-api-key.js';
import { userTopic } from '../server/src/realtime/topics.js';
import { openStore, rowsOf, runMigrations, type Store } from '../server/src/store/index.js';
import { sampleValue, scrape } from '../server/src/test-support/metrics-text.js';
import { pgbouncerSkipReason, startPgbouncer } from '../server/src/test-support/pgbouncer.js';
import { freePort, runCleanups, waitFor } from '../server/src/test-support/processes.js';
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
import { createTestPublisher, type TestPublisher } from './support/publisher.js';
import { ResumingClient } from './support/resuming-client.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const skip = clusterSkipReason();

const pgbouncerSkip = pgbouncerSkipReason();
// Generous: the machine is shared and these run real processes.
const SCENARIO_TIMEOUT_MS = 180_000;
const OUTAGE_MS = 30_000;
/** The worker poll interval of the outage scenario's node (the default). */
const OUTAGE_POLL_INTERVAL_MS = configKeys.OUTBOX_POLL_INTERVAL_MS.schema.parse(undefined);
// The sentinel publisher stamps history exactly as a node with default settings does.
const history = {
  maxLength: configKeys.REALTIME_HISTORY_SIZE.schema.parse(undefined),
  ttlSeconds: configKeys.REALTIME_HISTORY_TTL_SECONDS.schema.parse(undefined),
};

/** The measured numbers are part of what these tests are for, so they go to the test output. */
function report(line: string): void {
  process.stdout.write(`[pipeline-faults] ${line}\n`);
}

/** One publish through the HTTP API that answered 200: the event's number and its seq. */
interface Committed {
  readonly n: number;
  readonly seq: number;
}

/** A durable topic's row in core.outbox. */
interface OutboxRow {
  readonly seq: number;
  readonly n: number;
  readonly processed: boolean;
  readonly deadLettered: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skip)(
  `durable pipeline faults: serve processes, a private Redis behind a TCP proxy${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    const jwtSecret = randomBytes(32).toString('hex');
    const token = tokenMinter(jwtSecret);
    let redis: PrivateRedis;
    let databaseUrl: string;
    let workDir: string;
    let store: Store;
    let sentinels: TestPublisher;
    let apiKey = '';
    let nodeCount = 0;

    /** Starts a node on its own port and data directory; the caller's cleanups kill it. */
    async function launch(
      scope: Array<() => unknown>,
      options: { redisUrl: string; databaseUrl?: string; env: Record<string, string> },
    ): Promise<ClusterNode> {
      const node = await startNode({
        index: nodeCount++,
        port: await freePort(),
        databaseUrl: options.databaseUrl ?? databaseUrl,
        redisUrl: options.redisUrl,
        jwtSecret,
        workDir,
        env: options.env,
      });
      scope.push(() => node.process.kill());
      return node;
    }

    async function proxyToRedis(scope: Array<() => unknown>): Promise<TcpProxy> {
      const proxy = await startTcpProxy({ targetPort: redis.port });
      scope.push(() => proxy.close());
      return proxy;
    }

    /** Publishes `{ type: 'fault.tick', n }` on a durable topic; 200 means it committed. */
    async function publish(
      node: ClusterNode,
      topic: string,
      n: number,
      timeoutMs = 10_000,
    ): Promise<{ status: number; seq?: number; body: string }> {
      const response = await fetch(`${node.url}/api/v1/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ topic, event: { type: 'fault.tick', n } }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await response.text();
      const seq = response.status === 200 ? (JSON.parse(body) as { seq?: unknown }).seq : undefined;
      return { status: response.status, body, ...(typeof seq === 'number' ? { seq } : {}) };
    }

    async function mustCommit(node: ClusterNode, topic: string, n: number): Promise<Committed> {
      const answer = await publish(node, topic, n);
      expect(answer.status, answer.body).toBe(200);
      return { n, seq: answer.seq! };
    }

    /** The topic's rows in core.outbox, by seq: what committed, whatever any process answered. */
    async function outboxRows(topic: string): Promise<OutboxRow[]> {
      const result = await store.db.execute(sql`
        select o.seq::int as seq, (o.payload->>'n')::int as n, w.event_id is null as processed,
          coalesce(w.dead_lettered_at is not null, false) as dead
        from core.outbox o left join core.outbox_work w on w.event_id = o.id
        where o.topic = ${topic} order by o.seq`);
      return rowsOf<{
        seq: number;
        n: number;
        processed: boolean;
        dead: boolean;
      }>(result).map((r) => ({
        seq: Number(r.seq),
        n: Number(r.n),
        processed: r.processed,
        deadLettered: r.dead,
      }));
    }

    async function pendingRows(topic: string): Promise<number> {
      return (await outboxRows(topic)).filter((r) => !r.processed && !r.deadLettered).length;
    }

    /**
     * Waits until `client` holds `seq` on `topic`, then sends an event on the client's own topic
     * straight through Redis and waits for it: everything published before, duplicates
     * included, has reached the client by then.
     */
    async function settle(client: ResumingClient, topic: string, seq: number): Promise<void> {
      await client.until(
        `seq ${seq} on ${topic}`,
        () => client.received(topic).some((e) => e.seq >= seq),
        60_000,
      );
      const own = userTopic(client.name);
      const sentinel = await waitFor('the sentinel publish', async () =>
        sentinels.publish(own, 9_000_000),
      );
      await client.until(
        'the sentinel on the user topic',
        () => client.received(own).some((e) => e.seq >= sentinel),
        60_000,
      );
    }

    /**
     * Asserts that the client received exactly the topic's committed rows, once each, in seq
     * order, that the seqs have no gap, and that every row is processed and none dead-lettered.
     */
    function expectDeliveredExactlyCommitted(
      client: ResumingClient,
      topic: string,
      rows: readonly OutboxRow[],
      answered: readonly Committed[],
    ): void {
      expect(
        rows.map((r) => r.seq),
        'gap-free seqs',
      ).toEqual(rows.map((_, i) => i + 1));
      const committed = new Set(rows.map((r) => `${r.seq}:${r.n}`));
      const missingAnswered = answered.filter((a) => !committed.has(`${a.seq}:${a.n}`));
      expect(missingAnswered, 'publishes answered 200 but not in core.outbox').toEqual([]);
      expect(rows.filter((r) => !r.processed || r.deadLettered)).toEqual([]);
      const delivered = client.received(topic).map((e) => `${e.seq}:${e.n}`);
      expect(delivered, client.describe(topic)).toEqual(rows.map((r) => `${r.seq}:${r.n}`));
      expect(client.notices).toEqual([]);
    }

    async function makeClient(
      scope: Array<() => unknown>,
      name: string,
      topic: string,
      nodes: readonly string[],
    ): Promise<ResumingClient> {
      const client = new ResumingClient({
        name,
        token: await token(name, { topics: ['durable.*'] }),
        topics: [topic],
        nodes,
      });
      scope.push(() => client.disconnect());
      await client.connect(0);
      return client;
    }

    /**
     * Node A (api, fast path on, Redis through a proxy) commits events and publishes them; node B
     * (gateway and worker, Redis direct) serves a client. A's Redis is black-holed, A commits more
     * it cannot publish, and A is killed with SIGKILL while requests are in flight. B's relay
     * worker must publish what A left: the client ends with exactly the committed rows.
     */
    async function killBetweenCommitAndPublish(
      label: string,
      database: { url: string; listenUrl?: string },
    ): Promise<void> {
      const scope: Array<() => unknown> = [];
      try {
        const id = randomBytes(4).toString('hex');
        const topic = `durable.crash.${id}`;
        const proxy = await proxyToRedis(scope);
        const shared = {
          OUTBOX_FAST_PATH_GRACE_MS: '500',
          ...(database.listenUrl ? { DATABASE_LISTEN_URL: database.listenUrl } : {}),
        };
        const started = Date.now();
        const [nodeA, nodeB] = await Promise.all([
          launch(scope, {
            databaseUrl: database.url,
            redisUrl: proxy.urlFor(redis.url),
            env: { ...shared, ROLES: 'api', OUTBOX_FAST_PATH: 'true' },
          }),
          launch(scope, {
            databaseUrl: database.url,
            redisUrl: redis.url,
            env: { ...shared, ROLES: 'gateway,worker', OUTBOX_POLL_INTERVAL_MS: '200' },
          }),
        ]);
        report(`${label}: api node and gateway+worker node ready in ${Date.now() - started} ms`);
        const client = await makeClient(scope, `crash-${id}`, topic, [nodeB.wsUrl]);

        // 1. Everything flows: A's fast path publishes through the proxy.
        const answered: Committed[] = [];
        for (let n = 1; n <= 20; n++) answered.push(await mustCommit(nodeA, topic, n));
        await client.until(
          'the events A published itself',
          () => client.received(topic).length >= 20,
        );

        // 2. A's Redis goes silent: A still commits (200) but cannot publish.
        proxy.blackHole();
        for (let n = 21; n <= 40; n++) answered.push(await mustCommit(nodeA, topic, n));

        // 3. Requests in flight while A is killed: whatever did not commit must never appear.
        const inFlight = Array.from({ length: 8 }, (_, i) =>
          publish(nodeA, topic, 41 + i, 5000).then(
            (answer) => ({ n: 41 + i, answer }),
            () => ({ n: 41 + i, answer: undefined }),
          ),
        );
        await Promise.race(inFlight);
        const pendingAtKill = await pendingRows(topic);
        const killedAt = Date.now();
        await nodeA.process.kill();
        const outcomes = await Promise.all(inFlight);
        const okInFlight = outcomes.filter((o) => o.answer?.status === 200);
        for (const o of okInFlight) answered.push({ n: o.n, seq: o.answer!.seq! });
        const unanswered = outcomes.filter((o) => o.answer?.status !== 200).map((o) => o.n);

        // 4. B's worker publishes what A left, once the fast path's grace has passed.
        const drained = await waitFor(
          'every committed row of the topic to be processed',
          async () => {
            const rows = await outboxRows(topic);
            return rows.every((r) => r.processed || r.deadLettered) ? rows : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        await settle(client, topic, drained.at(-1)!.seq);
        const drainedMs = Date.now() - killedAt;
        const rows = await outboxRows(topic);
        const committedUnanswered = rows.filter((r) => unanswered.includes(r.n)).length;
        report(
          `${label}: ${answered.length} answered 200 (20 before the partition, 20 black-holed, ${okInFlight.length} of 8 in flight at kill); ${committedUnanswered} of ${unanswered.length} unanswered committed anyway; ${pendingAtKill} rows unpublished at kill; all ${rows.length} delivered ${drainedMs} ms after kill -9`,
        );
        // A published nothing after the partition: B's worker published every later row.
        const nodeBMetrics = await scrape(nodeB.url);
        const byWorker = sampleValue(nodeBMetrics, 'outbox_published_total', { path: 'worker' });
        const retried =
          sampleValue(nodeBMetrics, 'outbox_retries_total', { reason: 'failed' }) +
          sampleValue(nodeBMetrics, 'outbox_retries_total', { reason: 'unavailable' });
        report(`${label}: attempts retried by B: ${retried}; client ${client.describe(topic)}`);
        expect(byWorker).toBeGreaterThanOrEqual(rows.length - 20);
        expectDeliveredExactlyCommitted(client, topic, rows, answered);
      } finally {
        await runCleanups(scope);
      }
    }

    beforeAll(async () => {
      const dir = makeTempDir('sb-pipeline-faults-');
      cleanups.push(() => dir.remove());
      workDir = dir.path;
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      databaseUrl = database.url;
      redis = await startPrivateRedis(workDir);
      cleanups.push(() => redis.kill());
      sentinels = await createTestPublisher(redis.url, history);
      cleanups.push(() => sentinels.close());
      store = await openStore({
        databaseUrl,
        dataDir: '/nonexistent',
        poolMax: 2,
        connectTimeoutMs: 3000,
        logger: testLogger,
      });
      cleanups.push(() => store.close());
      await runMigrations(store.db, testLogger);
      apiKey = (await createApiKey(store.db, { name: 'pipeline faults' })).key;
    }, SCENARIO_TIMEOUT_MS);

    afterAll(async () => {
      await runCleanups(cleanups);
    });

    it(
      'kill -9 of the committing process between commit and publish: a worker elsewhere publishes every committed event once, in order, and nothing else',
      () => killBetweenCommitAndPublish('kill -9', { url: databaseUrl }),
      SCENARIO_TIMEOUT_MS,
    );

    it.skipIf(pgbouncerSkip)(
      `kill -9 between commit and publish with every node's database connections through PgBouncer in transaction pooling mode${pgbouncerSkip ? ` (skipped: ${pgbouncerSkip})` : ''}`,
      async () => {
        const bouncer = await startPgbouncer({ databaseUrl });
        try {
          // LISTEN needs a session, which transaction pooling does not keep: it goes direct.
          await killBetweenCommitAndPublish('kill -9 via PgBouncer', {
            url: bouncer.url,
            listenUrl: databaseUrl,
          });
        } finally {
          await bouncer.stop();
        }
      },
      SCENARIO_TIMEOUT_MS,
    );

    it(
      `broker down for ${OUTAGE_MS / 1000} s under a steady publish rate: rows accumulate, workers back off, nothing is dead-lettered, everything drains once, in order`,
      async () => {
        const scope: Array<() => unknown> = [];
        try {
          const id = randomBytes(4).toString('hex');
          const topic = `durable.outage.${id}`;
          const proxy = await proxyToRedis(scope);
          const node = await launch(scope, { redisUrl: proxy.urlFor(redis.url), env: {} });
          // Both entries are the one node: the client reconnects to it, resuming by seq.
          const client = await makeClient(scope, `outage-${id}`, topic, [node.wsUrl, node.wsUrl]);
          client.keepConnected();
          const stream = publishSteadily(node, topic, 20);
          scope.push(() => stream.stop());
          await client.until('the stream flowing', () => client.received(topic).length >= 20);

          const metricsBefore = await scrape(node.url);
          const retriesBefore = sampleValue(metricsBefore, 'outbox_retries_total', {
            reason: 'unavailable',
          });
          proxy.cut();
          const cutAt = Date.now();
          const committedBeforeCut = stream.answered.length;
          let maxPending = 0;
          const retriesSeen: number[] = [];
          while (Date.now() - cutAt < OUTAGE_MS) {
            await sleep(Math.min(2000, OUTAGE_MS - (Date.now() - cutAt)));
            maxPending = Math.max(maxPending, await pendingRows(topic));
            retriesSeen.push(
              sampleValue(await scrape(node.url), 'outbox_retries_total', {
                reason: 'unavailable',
              }) - retriesBefore,
            );
          }
          const outageMetrics = await scrape(node.url);
          const retriesDuringOutage =
            sampleValue(outageMetrics, 'outbox_retries_total', { reason: 'unavailable' }) -
            retriesBefore;
          const committedDuringOutage = stream.answered.length - committedBeforeCut;
          const pendingAtRestore = await pendingRows(topic);
          proxy.forward();
          const restoredAt = Date.now();

          // The fast path works again once an event committed after the restore reaches the client.
          const firstAfter = await waitFor(
            'a publish after the restore',
            () => Promise.resolve(stream.answered.find((a) => a.at > restoredAt)),
            { timeoutMs: 30_000 },
          );
          await client.until(
            'an event committed after the restore',
            () => client.received(topic).some((e) => e.seq >= firstAfter.seq),
            60_000,
          );
          const caughtUpMs = Date.now() - restoredAt;
          const outcome = await stream.stop();
          const drained = await waitFor(
            'the outbox to drain',
            async () => {
              const rows = await outboxRows(topic);
              return rows.every((r) => r.processed || r.deadLettered) ? rows : undefined;
            },
            { timeoutMs: 60_000, intervalMs: 200 },
          );
          const drainedMs = Date.now() - restoredAt;
          await settle(client, topic, drained.at(-1)!.seq);
          const rows = await outboxRows(topic);
          const finalMetrics = await scrape(node.url);
          const pollsDuringOutage = OUTAGE_MS / OUTAGE_POLL_INTERVAL_MS;
          const retryBound = (committedDuringOutage * pollsDuringOutage) / 4;
          report(
            `outage: ${outcome.answered.length} committed at 20/s (${committedDuringOutage} during the ${OUTAGE_MS / 1000} s outage), ${outcome.failed.length} failed publishes; pending peaked at ${maxPending}, ${pendingAtRestore} at restore`,
          );
          report(
            `outage: retries{unavailable} during the outage ${retriesDuringOutage} (per sample: ${retriesSeen.join(' ')}; bound ${retryBound} = events x polls / 4); retries{failed} ${sampleValue(finalMetrics, 'outbox_retries_total', { reason: 'failed' })}`,
          );
          report(
            `outage: client caught up ${caughtUpMs} ms after the restore, outbox drained in ${drainedMs} ms; client reconnects ${client.reconnects.length}; published by path fast=${sampleValue(finalMetrics, 'outbox_published_total', { path: 'fast' })} worker=${sampleValue(finalMetrics, 'outbox_published_total', { path: 'worker' })}`,
          );
          expect(outcome.failed, 'durable publishes do not need the broker').toEqual([]);
          expect(maxPending).toBeGreaterThan(0);
          expect(retriesDuringOutage).toBeGreaterThan(0);
          expect(retriesDuringOutage).toBeLessThan(retryBound);
          expect(sampleValue(finalMetrics, 'outbox_retries_total', { reason: 'failed' })).toBe(0);
          expect(sampleValue(finalMetrics, 'outbox_dead_lettered_total')).toBe(0);
          expectDeliveredExactlyCommitted(client, topic, rows, outcome.answered);
        } finally {
          await runCleanups(scope);
        }
      },
      SCENARIO_TIMEOUT_MS,
    );

    /**
     * Publishes `perSecond` events to `topic` through the node's HTTP API until stopped; each
     * request has its own deadline, so a slow answer never holds up the rate.
     */
    function publishSteadily(node: ClusterNode, topic: string, perSecond: number) {
      const answered: Array<Committed & { at: number }> = [];
      const failed: Array<{ n: number; error: string }> = [];
      const requests = new Set<Promise<void>>();
      let stopped = false;
      const started = Date.now();
      const loop = (async () => {
        for (let n = 1; !stopped; n++) {
          const request = publish(node, topic, n).then(
            (answer) => {
              if (answer.status === 200) answered.push({ n, seq: answer.seq!, at: Date.now() });
              else failed.push({ n, error: `${answer.status} ${answer.body}` });
            },
            (err: unknown) => {
              failed.push({ n, error: err instanceof Error ? err.message : String(err) });
            },
          );
          requests.add(request);
          void request.finally(() => requests.delete(request));
          await sleep(Math.max(0, started + (n * 1000) / perSecond - Date.now()));
        }
      })();
      return {
        answered,
        async stop() {
          stopped = true;
          await loop;
          await Promise.all([...requests]);
          return { answered: [...answered].sort((a, b) => a.seq - b.seq), failed };
        },
      };
    }
  },
);
