// `switchboard outbox` as an operator uses it on an embedded data directory: stats, dead letters
// page by page, and redrive by id or all, with usage errors refused before the database opens.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, rowsOf } from '../store/index.js';
import {
  cliSandbox,
  cliSkipReason,
  skipAfterFailure,
  type CliSandbox,
} from '../test-support/processes.js';
import { testLogger } from '../test-support/services.js';
import type { DeadLetterPage } from './routes/outbox-admin-schemas.js';

const cliSkip = cliSkipReason();

// Every command opens PGlite (the first one also migrates it): seconds each on a busy machine.
describe.skipIf(cliSkip)(
  `switchboard outbox${cliSkip ? ` (skipped: ${cliSkip})` : ''}`,
  { timeout: 240_000 },
  () => {
    skipAfterFailure();
    let sandbox: CliSandbox;
    let deadIds: number[] = [];

    beforeAll(() => {
      sandbox = cliSandbox('sb-outbox-');
    });
    afterAll(() => sandbox.cleanup());

    const cli = (args: string[]) => sandbox.run(args);

    it.each([
      [
        ['outbox', '--help'],
        ['stats', 'dead-letters', 'redrive'],
      ],
      [
        ['outbox', 'dead-letters', '--help'],
        ['--after <id>', '--limit <n>', '1 to 500', '--json'],
      ],
    ])('prints help for %j', async (args, expected) => {
      const { code, output } = await cli(args);
      expect(code).toBe(0);
      for (const text of expected) expect(output).toContain(text);
    });

    it.each([
      [['outbox', 'redrive'], 2, 'or pass --all (not both)'],
      [['outbox', 'redrive', '3', '--all'], 2, 'or pass --all (not both)'],
      [['outbox', 'redrive', 'x7'], 1, 'expected dead letter ids'],
      [['outbox', 'dead-letters', '--limit', '501'], 1, 'expected an integer from 1 to 500'],
    ])('refuses %j before touching the database', async (args, status, message) => {
      const { code, output } = await cli(args);
      expect(code, output).toBe(status);
      expect(output).toContain(message);
    });

    it('reports an empty outbox', async () => {
      const human = await cli(['outbox', 'stats']);
      expect(human.code, human.output).toBe(0);
      expect(human.output).toMatch(/Pending events: 0\nDead letters:\s+0/);
    });

    it('counts pending events and dead letters', async () => {
      // The CLI above migrated the data directory; write the rows a failing consumer leaves.
      const store = await openStore({
        dataDir: sandbox.env.DATA_DIR,
        poolMax: 1,
        connectTimeoutMs: 3000,
        logger: testLogger,
      });
      try {
        const inserted = await store.db.execute(sql`
          with events as (
            insert into core.outbox (type, topic, seq, payload, created_at)
            select 'mail.sent', 'durable.cli', n, '{}'::jsonb, now() - interval '30 seconds'
            from generate_series(1, 4) as n
            order by n
            returning id, seq
          ), work as (
            insert into core.outbox_work (event_id, pending, retry_count, error, dead_lettered_at)
            select id, '{mailer}', 5,
              'mailer: SMTP 550 mailbox unavailable' || chr(10) || 'second line',
              case when seq <= 3 then now() end
            from events
          )
          select id::text as id, seq from events`);
        deadIds = rowsOf<{ id: string; seq: number }>(inserted)
          .filter((r) => Number(r.seq) <= 3)
          .map((r) => Number(r.id))
          .sort((a, b) => a - b);
      } finally {
        await store.close();
      }
      expect(deadIds).toHaveLength(3);

      const human = await cli(['outbox', 'stats']);
      expect(human.code, human.output).toBe(0);
      const oldest = /Pending events: 1 \(oldest (\d+\.\d) s\)\nDead letters:\s+3/.exec(
        human.output,
      );
      expect(oldest, human.output).not.toBeNull();
      expect(Number(oldest![1])).toBeGreaterThanOrEqual(30);
    });

    it('lists dead letters page by page', async () => {
      const first = await cli(['outbox', 'dead-letters', '--limit', '2', '--json']);
      expect(first.code, first.output).toBe(0);
      const page = JSON.parse(first.output.trim()) as DeadLetterPage;
      expect(page.items.map((l) => l.id)).toEqual(deadIds.slice(0, 2));
      expect(page.items[0]).toMatchObject({
        topic: 'durable.cli',
        type: 'mail.sent',
        pending: ['mailer'],
        retryCount: 5,
      });
      expect(page.nextCursor).toBe(String(deadIds[1]));
      const rest = await cli(['outbox', 'dead-letters', '--after', page.nextCursor!, '--json']);
      expect(JSON.parse(rest.output.trim())).toMatchObject({
        items: [{ id: deadIds[2] }],
        nextCursor: null,
      });

      const table = await cli(['outbox', 'dead-letters', '--limit', '2']);
      expect(table.code, table.output).toBe(0);
      const lines = table.output.trim().split('\n');
      expect(lines[0]).toMatch(
        /^ID\s+TOPIC\s+SEQ\s+TYPE\s+FAILED CONSUMERS\s+ATTEMPTS\s+DEAD SINCE\s+ERROR$/,
      );
      expect(lines[1]).toMatch(
        new RegExp(`^${deadIds[0]}\\s+durable\\.cli\\s+1\\s+mail\\.sent\\s+mailer\\s+5\\s+\\S+Z`),
      );
      // Only the error's first line fits a row.
      expect(lines[1]).toContain('SMTP 550 mailbox unavailable');
      expect(table.output).not.toContain('second line');
      expect(lines.at(-1)).toBe(
        `More: switchboard outbox dead-letters --after ${deadIds[1]} --limit 2`,
      );
    });

    it('redrives by id, says when an id is not a dead letter, and redrives all', async () => {
      const one = await cli(['outbox', 'redrive', String(deadIds[0]), '999999']);
      expect(one.code, one.output).toBe(1);
      expect(one.output).toContain('Redrove 1 dead letter(s)');
      expect(one.output).toContain('1 of the ids named are not dead letters');

      const all = await cli(['outbox', 'redrive', '--all']);
      expect(all.code, all.output).toBe(0);
      expect(all.output).toContain('Redrove 2 dead letter(s)');
      const stats = JSON.parse((await cli(['outbox', 'stats', '--json'])).output.trim()) as {
        pending: number;
        deadLetters: number;
      };
      expect(stats).toMatchObject({ pending: 4, deadLetters: 0 });
    });
  },
);
