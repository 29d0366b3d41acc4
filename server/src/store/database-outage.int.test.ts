// A running server rides out a PostgreSQL outage: readiness and database routes answer 503 while
// the database is gone, the process stays up, and everything works again once the database is
// back, without a restart. Transactions cut off by the outage leave nothing behind.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { startServer, type RunningServer } from '../main.js';
import {
  runCleanups,
  freePort,
  request,
  skipAfterFailure,
  systemUser,
  waitForStatus,
  within,
  type HttpAnswer,
} from '../test-support/processes.js';
import { makeTempDir, realPostgresUrl, skipReason, testLogger } from '../test-support/services.js';
import { rowsOf } from './index.js';

const run = promisify(execFile);

/** A directory holding initdb and pg_ctl: PG_BIN_DIR, the newest Debian install, or PATH. */
function findPostgresBinaries(): string | undefined {
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => join(debian, v, 'bin'))
    : [];
  const candidates = [
    process.env.PG_BIN_DIR,
    ...versions,
    ...(process.env.PATH ?? '').split(delimiter),
  ];
  return candidates.find(
    (dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')),
  );
}

const binaries = findPostgresBinaries();
const skip = !realPostgresUrl
  ? skipReason('PostgreSQL')
  : !binaries
    ? 'needs PostgreSQL server binaries (initdb, pg_ctl): install postgresql or set PG_BIN_DIR'
    : undefined;

/** A private PostgreSQL cluster this test may stop and start at will. */
interface Cluster {
  readonly url: string;
  start(): Promise<void>;
  /** Like a crash or a failover: no shutdown checkpoint, every connection cut. */
  stopImmediately(): Promise<void>;
  destroy(): Promise<void>;
}

async function createCluster(dir: string): Promise<Cluster> {
  // initdb and pg_ctl refuse to run as root.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = systemUser('postgres');
    chownSync(dir, uid, gid);
  }
  const pgTool = (tool: string, args: string[]) => {
    const binary = join(binaries!, tool);
    return asRoot
      ? run('runuser', ['-u', 'postgres', '--', binary, ...args], { timeout: 90_000 })
      : run(binary, args, { timeout: 90_000 });
  };
  const data = join(dir, 'data');
  const port = await freePort();
  await pgTool('initdb', [
    '-D',
    data,
    '--auth=trust',
    '--username=postgres',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    "-c unix_socket_directories=''",
    '-c fsync=off',
    '-c shared_buffers=16MB',
    '-c max_connections=30',
  ].join(' ');
  let running = false;
  const cluster: Cluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pgTool('pg_ctl', [
        'start',
        '-D',
        data,
        '-l',
        join(dir, 'postgres.log'),
        '-w',
        '-t',
        '60',
        '-o',
        serverOptions,
      ]);
      running = true;
    },
    async stopImmediately() {
      await pgTool('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '60']);
      running = false;
    },
    async destroy() {
      if (running || existsSync(join(data, 'postmaster.pid'))) await cluster.stopImmediately();
    },
  };
  return cluster;
}

/** A promise with its resolver, for handing control between a route and the test. */
function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface ErrorAnswer {
  error: { code: string; message: string };
  checks?: Record<string, { ok: boolean; error?: string }>;
}

describe.skipIf(skip)(
  `server during a PostgreSQL outage${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    let cluster: Cluster;
    let server: RunningServer;
    // Transactions the test parks mid-way: one inside a slow statement, one between statements.
    const parked = {
      sleeping: deferred(),
      idle: deferred(),
      resumeIdle: deferred(),
    };
    let inFlight: { sleeping: Promise<HttpAnswer>; idle: Promise<HttpAnswer> } | undefined;

    const url = (path: string) => `${server.url}${path}`;
    const countRows = async (marker: string) => {
      const answer = await request(url(`/probe/${marker}`));
      expect(answer.status, answer.body).toBe(200);
      return answer.json<{ rows: number }>().rows;
    };

    beforeAll(async () => {
      const dir = makeTempDir('sb-outage-');
      cleanups.push(() => dir.remove());
      cluster = await createCluster(dir.path);
      cleanups.push(() => cluster.destroy());
      await cluster.start();

      const { config } = loadConfig({
        env: {
          DATABASE_URL: cluster.url,
          DATA_DIR: join(dir.path, 'switchboard'),
          PORT: '0',
          GRPC_PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'silent',
          DATABASE_POOL_MAX: '4',
          DATABASE_CONNECT_TIMEOUT_MS: '1000',
          SHUTDOWN_TIMEOUT_SECONDS: '10',
        },
        cwd: dir.path,
      });
      server = await startServer({
        config,
        logger: testLogger,
        async beforeListen({ app, store }) {
          await store.db.execute(sql`
            create table if not exists outage_probe (
              id serial primary key,
              marker text not null,
              step int not null
            )`);
          const insert = (tx: Pick<typeof store.db, 'execute'>, marker: string, step: number) =>
            tx.execute(sql`insert into outage_probe (marker, step) values (${marker}, ${step})`);

          app.post<{ Params: { marker: string } }>('/probe/:marker', async (req) => {
            await store.db.transaction(async (tx) => {
              await insert(tx, req.params.marker, 1);
              await insert(tx, req.params.marker, 2);
            });
            return { written: 2 };
          });
          app.get<{ Params: { marker: string } }>('/probe/:marker', async (req) => {
            const result = await store.db.execute(
              sql`select count(*)::int as rows from outage_probe where marker = ${req.params.marker}`,
            );
            return { rows: rowsOf<{ rows: number }>(result)[0]?.rows ?? 0 };
          });
          // Parked in a statement the database is still running when it goes away.
          app.post('/probe/parked-sleeping', async () => {
            await store.db.transaction(async (tx) => {
              await insert(tx, 'parked-sleeping', 1);
              parked.sleeping.resolve();
              await tx.execute(sql`select pg_sleep(60)`);
              await insert(tx, 'parked-sleeping', 2);
            });
            return { written: 2 };
          });
          // Parked between statements (idle in transaction) until the test lets it go on.
          app.post('/probe/parked-idle', async () => {
            await store.db.transaction(async (tx) => {
              await insert(tx, 'parked-idle', 1);
              parked.idle.resolve();
              await parked.resumeIdle.promise;
              await insert(tx, 'parked-idle', 2);
            });
            return { written: 2 };
          });
        },
      });
      cleanups.push(() => server.stop('test cleanup'));
      // Cleanups run in reverse: if a test failed with the cluster up, take it down before
      // stopping the server, so a request parked in pg_sleep cannot hold the server's drain.
      cleanups.push(() => cluster.destroy());
    });

    skipAfterFailure();

    afterAll(async () => {
      parked.resumeIdle.resolve();
      await runCleanups(cleanups);
    });

    it('serves readiness and database routes while PostgreSQL is up', async () => {
      const ready = await request(url('/readyz'));
      expect(ready.status, ready.body).toBe(200);
      expect((await request(url('/probe/before'), { method: 'POST' })).status).toBe(200);
      expect(await countRows('before')).toBe(2);
    });

    it('answers 503 (readiness naming the database, routes database_unavailable) while it is down, and stays alive', async () => {
      inFlight = {
        sleeping: request(url('/probe/parked-sleeping'), { method: 'POST', timeoutMs: 60_000 }),
        idle: request(url('/probe/parked-idle'), { method: 'POST', timeoutMs: 60_000 }),
      };
      // Awaited below; if this stage fails first, their failures must not go unhandled.
      for (const answer of Object.values(inFlight)) answer.catch(() => undefined);
      // Both transactions have written their first row before the database goes away.
      await within(
        'transactions parked',
        15_000,
        Promise.all([parked.sleeping.promise, parked.idle.promise]),
      );

      await cluster.stopImmediately();

      const notReady = await waitForStatus(url('/readyz'), 503, { timeoutMs: 15_000 });
      const report = notReady.json<ErrorAnswer>();
      expect(report.error.code).toBe('not_ready');
      expect(report.error.message).toMatch(/database: /);
      expect(report.checks?.database?.ok).toBe(false);
      expect(report.checks?.broker?.ok).toBe(true);

      // The statement that was running fails with the connection.
      const sleeping = await within('parked statement answers', 15_000, inFlight.sleeping);
      expect(sleeping.status, sleeping.body).toBe(503);
      expect(sleeping.json<ErrorAnswer>().error.code).toBe('database_unavailable');
      // The idle transaction notices on its next statement.
      parked.resumeIdle.resolve();
      const idle = await within('parked transaction answers', 15_000, inFlight.idle);
      expect(idle.status, idle.body).toBe(503);
      expect(idle.json<ErrorAnswer>().error.code).toBe('database_unavailable');

      for (const method of ['POST', 'GET']) {
        const answer = await request(url('/probe/during'), { method });
        expect(answer.status, `${method}: ${answer.body}`).toBe(503);
        expect(answer.json<ErrorAnswer>().error.code).toBe('database_unavailable');
      }
      const alive = await request(url('/health'));
      expect(alive.status).toBe(200);
      expect(alive.body).toBe('OK');
    });

    it('recovers once PostgreSQL is back, without a restart', async () => {
      await cluster.start();
      const ready = await waitForStatus(url('/readyz'), 200, { timeoutMs: 30_000 });
      expect(ready.json<{ checks: Record<string, { ok: boolean }> }>().checks.database?.ok).toBe(
        true,
      );
      // No connection from before the outage may be handed out again and fail.
      for (let i = 0; i < 6; i++) {
        const answer = await request(url('/probe/after'), { method: 'POST' });
        expect(answer.status, answer.body).toBe(200);
      }
      expect(await countRows('after')).toBe(12);
      expect(await countRows('before')).toBe(2);
    });

    it('left nothing half-written by the transactions the outage cut off', async () => {
      expect(await countRows('parked-sleeping')).toBe(0);
      expect(await countRows('parked-idle')).toBe(0);
      expect(await countRows('during')).toBe(0);
    });

    it('stops cleanly', async () => {
      await expect(
        within('server.stop()', 15_000, server.stop('test done')),
      ).resolves.toBeUndefined();
    });
  },
);
