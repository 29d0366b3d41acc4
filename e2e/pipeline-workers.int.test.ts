// The outbox relay workers as real processes: `switchboard serve --roles=worker` processes drain
// a backlog committed before they started, sharing it through FOR UPDATE SKIP LOCKED without
// publishing anything twice; a worker killed with SIGKILL mid-batch loses nothing (the rows it
// held roll back and another worker publishes them); both hold through PgBouncer in transaction
// pooling mode. Deliveries are counted per (topic, seq) by a subscriber on the same Redis.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, Delivery } from '../server/src/broker/index.js';
import { createRedisBroker } from '../server/src/broker/redis-broker.js';
import { insertEvents, type AppendItem } from '../server/src/pipeline/outbox-queries.js';
import { REALTIME_CONSUMER } from '../server/src/pipeline/realtime-consumer.js';
import { openStore, rowsOf, runMigrations, type Store } from '../server/src/store/index.js';
import { pgbouncerSkipReason, startPgbouncer } from '../server/src/test-support/pgbouncer.js';
import {
  runCleanups,
  spawnCli,
  type RunningProcess,
} from '../server/src/test-support/processes.js';
import {
  createTestDatabase,
  makeTempDir,
  testLogger,
} from '../server/src/test-support/services.js';
import { clusterSkipReason, startPrivateRedis, type PrivateRedis } from './support/cluster.js';

const skip = clusterSkipReason();
const bouncerSkip = pgbouncerSkipReason();

const TOPIC_COUNT = 100;
const DRAIN_ROWS = 100_000;
const KILL_ROWS = 20_000;
/** The workers' OUTBOX_BATCH_SIZE (the default): the most one killed worker can leave half done. */
const BATCH_SIZE = 500;
const INSERT_CHUNK = 5000;
const SCENARIO_TIMEOUT_MS = 180_000;
const EVENT_TYPE = 'drain.tick';

interface Summary {
  scenario: string;
  via: 'direct' | 'pgbouncer';
  rows: number;
  workers: number;
  /** From spawning the workers until every row was published and marked processed. */
  seconds: number;
  /** From the first delivery until every row was marked processed. */
  drainSeconds: number;
  rowsPerSecond: number;
  duplicates: number;
  [more: string]: unknown;
}

/** The measured numbers are part of what these tests are for, so they go to the test output. */
function report(summary: Summary): void {
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/**
 * Counts what the subscriber received per (topic, seq). Each row's payload carries the seq it
 * must have been committed with, so a delivery with the wrong seq or body is caught as well.
 */
class DeliveryLedger {
  private readonly counts = new Map<string, Uint8Array>();
  private readonly newest = new Map<string, number>();
  unique = 0;
  duplicates = 0;
  /** Deliveries with a lower seq than one already delivered on their topic. */
  outOfOrder = 0;
  /** Deliveries that match no committed row (wrong topic, seq or body). */
  readonly unexpected: string[] = [];
  firstAt: number | undefined;
  lastAt: number | undefined;

  constructor(
    topics: readonly string[],
    private readonly perTopic: number,
  ) {
    for (const topic of topics) this.counts.set(topic, new Uint8Array(perTopic + 1));
  }

  readonly record = (delivery: Delivery): void => {
    const now = Date.now();
    this.firstAt ??= now;
    this.lastAt = now;
    const counts = this.counts.get(delivery.topic);
    const seq = delivery.seq ?? 0;
    let body: { type?: unknown; n?: unknown } = {};
    try {
      body = JSON.parse(delivery.data) as typeof body;
    } catch {
      // Counted as unexpected below.
    }
    if (!counts || seq < 1 || seq > this.perTopic || body.n !== seq || body.type !== EVENT_TYPE) {
      if (this.unexpected.length < 20) {
        this.unexpected.push(`${delivery.topic}#${delivery.seq}: ${delivery.data.slice(0, 80)}`);
      }
      return;
    }
    const newest = this.newest.get(delivery.topic) ?? 0;
    if (seq < newest) this.outOfOrder += 1;
    else this.newest.set(delivery.topic, seq);
    if (counts[seq] === 0) this.unique += 1;
    else this.duplicates += 1;
    if (counts[seq]! < 255) counts[seq]! += 1;
  };

  /** A few (topic, seq) never delivered, for failure messages. */
  missing(limit = 10): string[] {
    const found: string[] = [];
    for (const [topic, counts] of this.counts) {
      for (let seq = 1; seq <= this.perTopic && found.length < limit; seq++) {
        if (counts[seq] === 0) found.push(`${topic}#${seq}`);
      }
    }
    return found;
  }

  /** The most times any one (topic, seq) was delivered. */
  maxCopies(): number {
    let max = 0;
    for (const counts of this.counts.values()) {
      for (let seq = 1; seq <= this.perTopic; seq++) max = Math.max(max, counts[seq]!);
    }
    return max;
  }
}

/** Polls `done` until it is true; `assertAlive` throws (ending the wait at once) on a dead process. */
async function until(
  what: string,
  done: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; intervalMs?: number; assertAlive?: () => void },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.assertAlive?.();
    if (await done()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

describe.skipIf(skip)(
  `outbox relay workers as processes on real PostgreSQL and Redis${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    let workDir: string;
    let redis: PrivateRedis;
    const jwtSecret = randomBytes(24).toString('hex');

    beforeAll(async () => {
      const dir = makeTempDir('sb-pipeline-workers-');
      cleanups.push(() => dir.remove());
      workDir = dir.path;
      redis = await startPrivateRedis(workDir);
      cleanups.push(() => redis.kill());
    });

    afterAll(async () => {
      await runCleanups(cleanups);
    });

    interface Scenario {
      name: string;
      rows: number;
      workers: number;
      via: 'direct' | 'pgbouncer';
      /** SIGKILL the last worker once this share of the rows was delivered, mid-batch. */
      killAfterShare?: number;
    }

    interface Outcome {
      ledger: DeliveryLedger;
      summary: Summary;
      processed: number;
      deadLetters: number;
      retried: number;
      /** Rows delivered when the victim was killed. */
      deliveredAtKill?: number;
    }

    /**
     * Commits `rows` outbox rows over TOPIC_COUNT topics into a fresh database, then starts the
     * workers and waits until every (topic, seq) was delivered and every row is processed.
     */
    async function runScenario(scenario: Scenario): Promise<Outcome> {
      const local: Array<() => unknown> = [];
      try {
        return await drain(scenario, local);
      } finally {
        await runCleanups(local);
      }
    }

    async function drain(scenario: Scenario, local: Array<() => unknown>): Promise<Outcome> {
      const { rows, workers: workerCount } = scenario;
      const perTopic = rows / TOPIC_COUNT;
      const topics = Array.from({ length: TOPIC_COUNT }, (_, i) => `durable.${scenario.name}.${i}`);

      const database = await createTestDatabase();
      local.push(() => database.drop());
      const store: Store = await openStore({
        databaseUrl: database.url,
        dataDir: '/nonexistent',
        poolMax: 2,
        connectTimeoutMs: 5000,
        logger: testLogger,
        applicationName: 'switchboard:pipeline-workers-test',
      });
      local.push(() => store.close());
      await runMigrations(store.db, testLogger);
      const insertStarted = Date.now();
      for (let from = 0; from < rows; from += INSERT_CHUNK) {
        const items: AppendItem[] = [];
        for (let k = from; k < Math.min(rows, from + INSERT_CHUNK); k++) {
          // Round robin over the topics: the k-th row of a topic gets seq k, so `n` is its seq.
          items.push({
            type: EVENT_TYPE,
            topic: topics[k % TOPIC_COUNT]!,
            payload: { n: Math.floor(k / TOPIC_COUNT) + 1 },
            pending: [REALTIME_CONSUMER],
          });
        }
        await insertEvents(store.db, items, 0);
      }
      const insertSeconds = (Date.now() - insertStarted) / 1000;
      // Statistics as a database that has been running would have them. With none (a table
      // filled a moment ago) the claim's plan reads and sorts every unprocessed row per batch
      // instead of walking the partial index, and the drain measures that instead.
      await store.db.execute(sql`analyze core.outbox, core.outbox_work`);
      // An event is unprocessed while it has a work row (this database holds only this scenario's).
      const countRows = async () =>
        rowsOf<{ unprocessed: number; dead: number }>(
          await store.db.execute(sql`
            select count(*)::int as unprocessed,
              count(*) filter (where dead_lettered_at is not null)::int as dead
            from core.outbox_work`),
        )[0]!;
      expect((await countRows()).unprocessed).toBe(rows);

      let workerUrl = database.url;
      let bouncerAdminUrl: string | undefined;
      if (scenario.via === 'pgbouncer') {
        // Two server connections shared by every worker process: consecutive transactions of
        // one worker land on whichever is free.
        const bouncer = await startPgbouncer({ databaseUrl: database.url, poolSize: 2 });
        local.push(() => bouncer.stop());
        workerUrl = bouncer.url;
        bouncerAdminUrl = bouncer.adminUrl;
      }

      const ledger = new DeliveryLedger(topics, perTopic);
      const subscriber: Broker = await createRedisBroker({
        url: redis.url,
        logger: testLogger,
        mode: 'perconv',
      });
      local.push(() => subscriber.close());
      subscriber.onMessage(ledger.record);
      await subscriber.subscribe(topics);

      // A direct connection, for pg_stat_activity (PgBouncer's clients show up there too).
      const monitor = new pg.Client({ connectionString: database.url });
      await monitor.connect();
      local.push(() => monitor.end());

      const instance = (i: number) => `${scenario.name}-worker-${i + 1}`;
      const workers: RunningProcess[] = [];
      local.push(() => Promise.all(workers.map((w) => w.kill())));
      const spawnedAt = Date.now();
      for (let i = 0; i < workerCount; i++) {
        workers.push(
          spawnCli(['serve', '--roles=worker'], {
            cwd: workDir,
            env: {
              HOST: '127.0.0.1',
              PORT: '0',
              INSTANCE_ID: instance(i),
              LOG_LEVEL: 'warn',
              DATABASE_URL: workerUrl,
              // LISTEN needs a session: as documented, it bypasses PgBouncer.
              DATABASE_LISTEN_URL: database.url,
              REDIS_URL: redis.url,
              JWT_SECRET: jwtSecret,
              DATA_DIR: join(workDir, instance(i)),
              OUTBOX_WORKERS: '1',
              OUTBOX_BATCH_SIZE: String(BATCH_SIZE),
            },
          }),
        );
      }
      const killed = new Set<RunningProcess>();
      const workerOutput = () =>
        workers.map((w, i) => `--- ${instance(i)} ---\n${w.output().slice(-4000)}`).join('\n');
      const assertAlive = () => {
        workers.forEach((worker, i) => {
          const exit = worker.child.exitCode ?? worker.child.signalCode;
          if (exit !== null && !killed.has(worker)) {
            throw new Error(`${instance(i)} exited (${exit}):\n${worker.output()}`);
          }
        });
      };

      let deliveredAtKill: number | undefined;
      if (scenario.killAfterShare !== undefined) {
        const victimIndex = workerCount - 1;
        const victim = workers[victimIndex]!;
        const threshold = Math.floor(rows * scenario.killAfterShare);
        await until(`${threshold} of ${rows} rows delivered`, () => ledger.unique >= threshold, {
          timeoutMs: 60_000,
          assertAlive,
        });
        // Mid-batch: the victim's last statement was its claim and its transaction is still open,
        // so it is publishing rows it has not marked processed yet.
        await until(
          `${instance(victimIndex)} to be publishing a claimed batch`,
          async () => {
            const { rows: busy } = await monitor.query<{ n: number }>(
              `select count(*)::int as n from pg_stat_activity
               where datname = current_database() and application_name = $1
                 and state = 'idle in transaction' and query ilike '%skip locked%'`,
              [`switchboard:${instance(victimIndex)}`],
            );
            return busy[0]!.n > 0;
          },
          { timeoutMs: 30_000, intervalMs: 2, assertAlive },
        );
        killed.add(victim);
        victim.child.kill('SIGKILL');
        deliveredAtKill = ledger.unique;
        await victim.exited;
        expect(deliveredAtKill).toBeLessThan(rows);
      }

      await until(
        `every (topic, seq) delivered (missing e.g. ${ledger.missing(3).join(', ')})`,
        () => ledger.unique === rows,
        { timeoutMs: 120_000, assertAlive },
      );
      await until('every outbox row processed', async () => (await countRows()).unprocessed === 0, {
        timeoutMs: 30_000,
        assertAlive,
      });
      const doneAt = Date.now();
      const counts = await countRows();

      let bouncerTransactions: number | undefined;
      if (bouncerAdminUrl) {
        // PgBouncer's admin console speaks the simple query protocol only: no parameters.
        const admin = new pg.Client({ connectionString: bouncerAdminUrl });
        await admin.connect();
        try {
          const stats = (await admin.query<Record<string, string>>('SHOW STATS')).rows;
          const ours = stats.find((s) => s.database === database.name);
          bouncerTransactions = Number(ours?.total_xact_count ?? 0);
        } finally {
          await admin.end();
        }
      }

      const drainSeconds = (doneAt - (ledger.firstAt ?? spawnedAt)) / 1000;
      const summary: Summary = {
        scenario: scenario.killAfterShare === undefined ? 'drain' : 'kill',
        via: scenario.via,
        rows,
        workers: workerCount,
        seconds: round((doneAt - spawnedAt) / 1000),
        drainSeconds: round(drainSeconds),
        rowsPerSecond: Math.round(rows / drainSeconds),
        duplicates: ledger.duplicates,
        outOfOrder: ledger.outOfOrder,
        startupSeconds: round(((ledger.firstAt ?? doneAt) - spawnedAt) / 1000),
        insertSeconds: round(insertSeconds),
        ...(deliveredAtKill === undefined ? {} : { deliveredAtKill }),
        ...(bouncerTransactions === undefined ? {} : { bouncerTransactions }),
      };
      report(summary);
      expect(ledger.unexpected, workerOutput()).toEqual([]);
      if (bouncerTransactions !== undefined) {
        // Every claimed batch was a transaction through PgBouncer.
        expect(bouncerTransactions).toBeGreaterThanOrEqual(rows / BATCH_SIZE);
      }
      return {
        ledger,
        summary,
        processed: rows - counts.unprocessed,
        deadLetters: counts.dead,
        // A processed event's work row is gone, retried or not: a failed attempt shows in the
        // workers' logs.
        retried: workers
          .flatMap((w) => w.output().split('\n'))
          .filter((line) => /outbox consumers failed|relay batch failed/.test(line)).length,
        ...(deliveredAtKill === undefined ? {} : { deliveredAtKill }),
      };
    }

    function expectDrainedOnce(outcome: Outcome, rows: number): void {
      expect(outcome.ledger.missing()).toEqual([]);
      expect(outcome.ledger.unique).toBe(rows);
      expect(outcome.processed).toBe(rows);
      expect(outcome.deadLetters).toBe(0);
      expect(outcome.retried).toBe(0);
      // Nothing crashed, so nothing may have been published twice.
      expect(outcome.ledger.duplicates).toBe(0);
    }

    function expectSurvivedKill(outcome: Outcome, rows: number): void {
      expect(outcome.ledger.missing()).toEqual([]);
      expect(outcome.ledger.unique).toBe(rows);
      expect(outcome.processed).toBe(rows);
      expect(outcome.deadLetters).toBe(0);
      // Republished at most once: only the killed worker's uncommitted batch comes again.
      expect(outcome.ledger.duplicates).toBeLessThanOrEqual(BATCH_SIZE);
      expect(outcome.ledger.maxCopies()).toBeLessThanOrEqual(2);
    }

    for (const workers of [1, 2, 4]) {
      it(
        `${workers} worker process(es) drain ${DRAIN_ROWS.toLocaleString('en')} committed rows over ${TOPIC_COUNT} topics: all published, none twice`,
        async () => {
          const outcome = await runScenario({
            name: `drain.n${workers}`,
            rows: DRAIN_ROWS,
            workers,
            via: 'direct',
          });
          expectDrainedOnce(outcome, DRAIN_ROWS);
        },
        SCENARIO_TIMEOUT_MS,
      );
    }

    it(
      `kill -9 of one of 2 worker processes mid-batch: all ${KILL_ROWS.toLocaleString('en')} rows still published`,
      async () => {
        const outcome = await runScenario({
          name: 'kill',
          rows: KILL_ROWS,
          workers: 2,
          via: 'direct',
          killAfterShare: 0.25,
        });
        expectSurvivedKill(outcome, KILL_ROWS);
      },
      SCENARIO_TIMEOUT_MS,
    );

    describe.skipIf(bouncerSkip)(
      `through PgBouncer in transaction pooling mode${bouncerSkip ? ` (skipped: ${bouncerSkip})` : ''}`,
      () => {
        it(
          `2 worker processes drain ${DRAIN_ROWS.toLocaleString('en')} committed rows: all published, none twice`,
          async () => {
            const outcome = await runScenario({
              name: 'bouncer.drain.n2',
              rows: DRAIN_ROWS,
              workers: 2,
              via: 'pgbouncer',
            });
            expectDrainedOnce(outcome, DRAIN_ROWS);
          },
          SCENARIO_TIMEOUT_MS,
        );

        it(
          `kill -9 of one of 2 worker processes mid-batch: all ${KILL_ROWS.toLocaleString('en')} rows still published`,
          async () => {
            const outcome = await runScenario({
              name: 'bouncer.kill',
              rows: KILL_ROWS,
              workers: 2,
              via: 'pgbouncer',
              killAfterShare: 0.25,
            });
            expectSurvivedKill(outcome, KILL_ROWS);
          },
          SCENARIO_TIMEOUT_MS,
        );
      },
    );
  },
);
