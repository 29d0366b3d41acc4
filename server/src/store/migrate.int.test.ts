import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestStore, target, testLogger, type TestStore } from '../test-support/services.js';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrationsFolder, rowsOf, runMigrations } from './migrate.js';

describe(`migrations (${target})`, () => {
  let ts: TestStore;
  beforeEach(async () => {
    ts = await makeTestStore({ migrate: false });
  });
  afterEach(() => ts.cleanup());

  it('applies every committed migration once and creates the module schemas', async () => {
    const total = readMigrationFiles({ migrationsFolder }).length;
    const first = await runMigrations(ts.store.db, testLogger);
    expect(first.applied).toHaveLength(total);
    const again = await runMigrations(ts.store.db, testLogger);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toBe(total);

    const schemas = rowsOf<{ nspname: string }>(
      await ts.store.db.execute(
        sql`select nspname from pg_namespace where nspname in ('core', 'chat', 'relay') order by 1`,
      ),
    );
    expect(schemas.map((s) => s.nspname)).toEqual(['chat', 'core', 'relay']);
    const recorded = rowsOf<{ n: number }>(
      await ts.store.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`),
    );
    expect(recorded[0]?.n).toBe(total);
  });

  it('vacuums the tables that churn at a small fraction of change, not the default 20 %', async () => {
    await runMigrations(ts.store.db, testLogger);
    const rows = rowsOf<{ name: string; options: string[] | null }>(
      await ts.store.db.execute(sql`
        select n.nspname || '.' || c.relname as name, c.reloptions as options
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where (n.nspname, c.relname) in
          (('core', 'outbox'), ('core', 'outbox_work'), ('relay', 'inbound_messages'))
        order by 1`),
    );
    const vacuumScale = (options: string[] | null) =>
      options?.find((o) => o.startsWith('autovacuum_vacuum_scale_factor='));
    expect(rows.map((r) => [r.name, vacuumScale(r.options)])).toEqual([
      ['core.outbox', undefined],
      ['core.outbox_work', 'autovacuum_vacuum_scale_factor=0.02'],
      ['relay.inbound_messages', 'autovacuum_vacuum_scale_factor=0.02'],
    ]);
  });

  it('serializes concurrent runs on one database without errors', async () => {
    const results = await Promise.all([
      runMigrations(ts.store.db, testLogger),
      runMigrations(ts.store.db, testLogger),
      runMigrations(ts.store.db, testLogger),
    ]);
    const appliedCounts = results.map((r) => r.applied.length).sort();
    const total = readMigrationFiles({ migrationsFolder }).length;
    expect(appliedCounts).toEqual([0, 0, total]);
  });

  it('rolls back a failing migration completely', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sb-mig-'));
    try {
      mkdirSync(join(folder, 'meta'));
      writeFileSync(
        join(folder, 'meta', '_journal.json'),
        JSON.stringify({
          version: '7',
          dialect: 'postgresql',
          entries: [{ idx: 0, version: '7', when: 1, tag: '0000_bad', breakpoints: true }],
        }),
      );
      writeFileSync(
        join(folder, '0000_bad.sql'),
        'CREATE TABLE public.half_done (id int);\n--> statement-breakpoint\nSELECT * FROM no_such_table;',
      );
      await expect(runMigrations(ts.store.db, testLogger, folder)).rejects.toThrow();
      const left = rowsOf<{ n: number }>(
        await ts.store.db.execute(
          sql`select count(*)::int as n from pg_tables where tablename = 'half_done'`,
        ),
      );
      expect(left[0]?.n).toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
