// Cross-process wake-up: a NOTIFY from any connection wakes a waiting worker at once, also after
// its LISTEN connection was cut and came back.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realPostgresUrl, skipReason, testLogger } from '../test-support/services.js';
import { createTestDatabase } from '../test-support/services.js';
import { WAKE_CHANNEL } from './outbox-queries.js';
import { OutboxWake } from './wake.js';

const skip = realPostgresUrl ? undefined : skipReason('PostgreSQL');

describe.skipIf(skip)(
  `outbox wake-up over LISTEN/NOTIFY${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let wake: OutboxWake;
    let notifier: pg.Client;
    beforeAll(async () => {
      database = await createTestDatabase();
      wake = new OutboxWake();
      await wake.listen(database.url, testLogger);
      notifier = new pg.Client({ connectionString: database.url });
      await notifier.connect();
    });
    afterAll(async () => {
      await notifier?.end();
      await wake?.close();
      await database?.drop();
    });

    /** Milliseconds until a wait of a minute ends after a NOTIFY. */
    async function wakeDelay(): Promise<number> {
      const started = Date.now();
      const waiting = wake.wait(60_000);
      await notifier.query(`select pg_notify('${WAKE_CHANNEL}', '')`);
      await waiting;
      return Date.now() - started;
    }

    it('ends a wait as soon as another connection notifies', async () => {
      expect(await wakeDelay()).toBeLessThan(5000);
    });

    it('listens again after its connection is cut', async () => {
      const listenerPid = async () => {
        const result = await notifier.query(
          `select pid from pg_stat_activity
         where application_name = 'switchboard:listen' and datname = current_database()`,
        );
        return (result.rows as Array<{ pid: number }>).map((r) => r.pid);
      };
      const [before] = await listenerPid();
      expect(before).toBeDefined();
      await notifier.query('select pg_terminate_backend($1)', [before]);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const pids = await listenerPid();
        if (pids.length === 1 && pids[0] !== before) break;
        if (Date.now() > deadline) throw new Error('the listener did not come back');
        await new Promise((r) => setTimeout(r, 50));
      }
      // The reconnect itself pokes waiters once; a later NOTIFY must get through the new connection.
      await new Promise((r) => setTimeout(r, 200));
      expect(await wakeDelay()).toBeLessThan(5000);
    });
  },
);
