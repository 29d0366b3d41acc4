// Two instances started at the same moment against one empty database: the migration lock makes
// one apply the migrations while the other waits, and both come up ready. The test holds the lock
// until both are queued on it, so they really do collide however fast either one starts.
import { join } from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runCleanups,
  cliSkipReason,
  freePort,
  skipAfterFailure,
  spawnCli,
  waitFor,
  waitForStatus,
  type RunningProcess,
} from '../test-support/processes.js';
import {
  createTestDatabase,
  makeTempDir,
  realPostgresUrl,
  skipReason,
} from '../test-support/services.js';
import { MIGRATION_LOCK_KEY, migrationsFolder } from './index.js';

const skip = !realPostgresUrl ? skipReason('PostgreSQL') : cliSkipReason();

describe.skipIf(skip)(
  `two instances starting together on one empty database${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    let databaseUrl: string;
    let lockHolder: pg.Client;
    const instances: Array<{ name: string; url: string; process: RunningProcess }> = [];

    skipAfterFailure();

    const describeInstances = () =>
      instances.map((i) => `--- ${i.name}:\n${i.process.output() || '(no output)'}`).join('\n');

    beforeAll(async () => {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      databaseUrl = database.url;
      const dir = makeTempDir('sb-concurrent-');
      cleanups.push(() => dir.remove());

      lockHolder = new pg.Client({ connectionString: databaseUrl });
      await lockHolder.connect();
      cleanups.push(() => lockHolder.end());
      await lockHolder.query('begin');
      await lockHolder.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);

      const ports = [await freePort(), await freePort()];
      for (const [i, port] of ports.entries()) {
        const name = `concurrent-${i + 1}`;
        const running = spawnCli(['serve'], {
          cwd: dir.path,
          env: {
            DATABASE_URL: databaseUrl,
            PORT: String(port),
            HOST: '127.0.0.1',
            // Separate hosts in real life: each keeps its own generated secrets.
            DATA_DIR: join(dir.path, name),
            LOG_LEVEL: 'warn',
            INSTANCE_ID: name,
          },
        });
        cleanups.push(() => running.kill());
        instances.push({ name, url: `http://127.0.0.1:${port}`, process: running });
      }
    });

    afterAll(async () => {
      await runCleanups(cleanups);
    });

    it('both answer /health and become ready', async () => {
      try {
        await waitFor(
          'both instances to queue on the migration lock',
          async () => {
            const { rows } = await lockHolder.query<{ waiting: number }>(
              `select count(*)::int as waiting from pg_locks
               where locktype = 'advisory' and not granted
                 and database = (select oid from pg_database where datname = current_database())`,
            );
            return rows[0]?.waiting === 2 ? true : undefined;
          },
          { timeoutMs: 60_000 },
        );
        await lockHolder.query('commit');
        await Promise.all(
          instances.map(async ({ url }) => {
            const health = await waitForStatus(`${url}/health`, 200, { timeoutMs: 60_000 });
            expect(health.body).toBe('OK');
            await waitForStatus(`${url}/readyz`, 200, { timeoutMs: 30_000 });
          }),
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${describeInstances()}`, { cause: err });
      }
    }, 120_000);

    it('recorded each migration exactly once', async () => {
      const migrations = readMigrationFiles({ migrationsFolder });
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ hash: string; times: number }>(
          'select hash, count(*)::int as times from drizzle.__drizzle_migrations group by hash',
        );
        expect(rows.map((r) => r.hash).sort()).toEqual(migrations.map((m) => m.hash).sort());
        expect(rows.every((r) => r.times === 1)).toBe(true);
      } finally {
        await client.end();
      }
    });

    it('both exit 0 on SIGTERM within 30 s', async () => {
      for (const { process } of instances) process.child.kill('SIGTERM');
      const exits = await Promise.all(instances.map(({ process }) => process.waitForExit(30_000)));
      expect(exits, describeInstances()).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
    }, 40_000);
  },
);
