// The store behind PgBouncer in transaction pooling mode: migrations, parameterised queries and
// transactions must work unchanged when consecutive transactions land on different server
// connections and the store's own pool is larger than PgBouncer's server pool.
import { count, eq, sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import {
  bigint,
  boolean,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgbouncerSkipReason, startPgbouncer } from '../test-support/pgbouncer.js';
import {
  createTestDatabase,
  realPostgresUrl,
  skipReason,
  testLogger,
} from '../test-support/services.js';
import { runCleanups } from '../test-support/processes.js';
import { migrationsFolder, openStore, rowsOf, runMigrations, type Store } from './index.js';

const skip = !realPostgresUrl ? skipReason('PostgreSQL') : pgbouncerSkipReason();

/** PgBouncer's server connections per database: deliberately fewer than the store's pool. */
const SERVER_POOL = 2;
const STORE_POOL = 10;

const probe = pgTable('pgbouncer_probe', {
  id: serial('id').primaryKey(),
  batch: text('batch').notNull(),
  n: integer('n').notNull(),
  big: bigint('big', { mode: 'bigint' }).notNull(),
  flag: boolean('flag').notNull(),
  doc: jsonb('doc').$type<{ n: number; tags: string[] }>().notNull(),
  at: timestamp('at', { withTimezone: true }).notNull(),
  note: text('note'),
});

describe.skipIf(skip)(
  `store through PgBouncer, transaction pooling${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    let bouncerUrl: string;
    let adminUrl: string;
    let store: Store;

    const openThroughBouncer = async () => {
      const opened = await openStore({
        databaseUrl: bouncerUrl,
        dataDir: '/nonexistent',
        poolMax: STORE_POOL,
        connectTimeoutMs: 5000,
        logger: testLogger,
        applicationName: 'switchboard:pgbouncer-test',
      });
      cleanups.push(() => opened.close());
      return opened;
    };

    /** PgBouncer's admin console speaks the simple query protocol only: no parameters. */
    const showAdmin = async (command: string) => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        return (await client.query<Record<string, unknown>>(command)).rows;
      } finally {
        await client.end();
      }
    };

    beforeAll(async () => {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      const bouncer = await startPgbouncer({ databaseUrl: database.url, poolSize: SERVER_POOL });
      cleanups.push(() => bouncer.stop());
      bouncerUrl = bouncer.url;
      adminUrl = bouncer.adminUrl;
      store = await openThroughBouncer();
      await store.db.execute(sql`
        create table if not exists pgbouncer_probe (
          id serial primary key,
          batch text not null,
          n integer not null,
          big bigint not null,
          flag boolean not null,
          doc jsonb not null,
          at timestamptz not null,
          note text
        )`);
    });

    afterAll(async () => {
      await runCleanups(cleanups);
    });

    it('runs migrations from two stores at once: both succeed, each migration recorded once', async () => {
      const other = await openThroughBouncer();
      const migrations = readMigrationFiles({ migrationsFolder });

      const results = await Promise.all([
        runMigrations(store.db, testLogger),
        runMigrations(other.db, testLogger),
      ]);

      expect(results.map((r) => r.applied.length).sort()).toEqual([0, migrations.length]);
      const recorded = rowsOf<{ hash: string; times: number }>(
        await store.db.execute(
          sql`select hash, count(*)::int as times from drizzle.__drizzle_migrations group by hash`,
        ),
      );
      expect(recorded.map((r) => r.hash).sort()).toEqual(migrations.map((m) => m.hash).sort());
      expect(recorded.every((r) => r.times === 1)).toBe(true);
    });

    it('answers store.ping()', async () => {
      await expect(store.ping(3000)).resolves.toBeUndefined();
    });

    it('runs many parameterised queries of every parameter type over more clients than server connections', async () => {
      const rows = Array.from({ length: 200 }, (_, n) => ({
        batch: 'params',
        n,
        big: 9_007_199_254_740_993n + BigInt(n),
        flag: n % 2 === 0,
        doc: { n, tags: [`t${n}`, 'ünïcödé ✓'] },
        at: new Date(Date.UTC(2026, 0, 1) + n * 60_000),
        note: n % 3 === 0 ? null : `it's "quoted" ${n}`,
      }));

      // The same statement text runs with different values (and nulls) on whatever server
      // connection PgBouncer picks; named prepared statements would fail here.
      await Promise.all(rows.map((row) => store.db.insert(probe).values(row)));
      const echoed = await Promise.all(
        rows.map((row) =>
          store.db.execute(
            sql`select ${row.n}::int as n, ${row.big}::bigint as big, ${row.flag}::boolean as flag,
                       ${JSON.stringify(row.doc)}::jsonb as doc, ${row.at}::timestamptz as at,
                       ${row.note}::text as note, ${sql.param([row.n, row.n + 1])}::int[] as pair,
                       ${Buffer.from([row.n % 256, 0, 255])}::bytea as bytes`,
          ),
        ),
      );
      echoed.forEach((result, i) => {
        const row = rows[i]!;
        const got = rowsOf<Record<string, unknown>>(result)[0];
        // Drizzle's driver setup returns timestamps as text; the instant must survive.
        expect({ ...got, at: new Date(String(got?.at)) }).toEqual({
          n: row.n,
          big: row.big.toString(),
          flag: row.flag,
          doc: row.doc,
          at: row.at,
          note: row.note,
          pair: [row.n, row.n + 1],
          bytes: Buffer.from([row.n % 256, 0, 255]),
        });
      });

      const stored = await Promise.all(
        rows.map((row) => store.db.select().from(probe).where(eq(probe.n, row.n))),
      );
      stored.forEach((found, i) => {
        const { id: _id, ...values } = found[0]!;
        expect(values).toEqual(rows[i]);
      });

      // The traffic really went through PgBouncer, which never opened more than its pool.
      const clients = await showAdmin('SHOW CLIENTS');
      const servers = await showAdmin('SHOW SERVERS');
      const ours = (listed: Array<Record<string, unknown>>) =>
        listed.filter((r) => r.database === new URL(bouncerUrl).pathname.slice(1));
      expect(ours(clients).length).toBeGreaterThan(SERVER_POOL);
      expect(ours(servers).length).toBeLessThanOrEqual(SERVER_POOL);
    });

    it('keeps each transaction on one server connection and leaves nothing behind a rollback', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, t) =>
          store.db.transaction(async (tx) => {
            const batch = `tx-${t}`;
            for (let n = 0; n < 3; n++) {
              await tx.insert(probe).values({
                batch,
                n,
                big: BigInt(t),
                flag: true,
                doc: { n, tags: [] },
                at: new Date(),
              });
            }
            // Uncommitted rows are visible only on the transaction's own server connection.
            const [seen] = await tx
              .select({ rows: count() })
              .from(probe)
              .where(eq(probe.batch, batch));
            expect(seen?.rows).toBe(3);
            if (t % 2 === 1) throw new Error(`abandon ${batch}`);
            return batch;
          }),
        ),
      );

      const committed = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const failed = outcomes.flatMap((o) =>
        o.status === 'rejected' ? [(o.reason as Error).message] : [],
      );
      expect(committed).toHaveLength(10);
      expect(failed.sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `abandon tx-${2 * i + 1}`).sort(),
      );
      const persisted = rowsOf<{ batch: string; rows: number }>(
        await store.db.execute(
          sql`select batch, count(*)::int as rows from pgbouncer_probe
              where batch like 'tx-%' group by batch order by batch`,
        ),
      );
      expect(persisted).toEqual(committed.sort().map((batch) => ({ batch, rows: 3 })));

      // tx.rollback() as well as a thrown error.
      await expect(
        store.db.transaction(async (tx) => {
          await tx.insert(probe).values({
            batch: 'explicit-rollback',
            n: 0,
            big: 0n,
            flag: false,
            doc: { n: 0, tags: [] },
            at: new Date(),
          });
          tx.rollback();
        }),
      ).rejects.toThrow();
      const [left] = await store.db
        .select({ rows: count() })
        .from(probe)
        .where(eq(probe.batch, 'explicit-rollback'));
      expect(left?.rows).toBe(0);
      // Nothing of a rolled-back transaction (e.g. an open transaction) sticks to the connection.
      await expect(store.ping(3000)).resolves.toBeUndefined();
    });
  },
);
