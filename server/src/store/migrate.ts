// Applies the committed drizzle-kit migrations in one transaction under an advisory lock, so
// instances starting together serialize instead of racing. Only transaction-scoped state is used,
// which keeps it correct through PgBouncer in transaction pooling mode.
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Logger } from '../observability/index.js';
import type { Database } from './database.js';

/** Arbitrary, fixed: the key every Switchboard instance locks while migrating. */
export const MIGRATION_LOCK_KEY = 7_302_511_093;

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

interface AppliedRow extends Record<string, unknown> {
  hash: string;
}

export async function runMigrations(
  db: Database,
  logger: Logger,
  folder: string = migrationsFolder,
): Promise<MigrationResult> {
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    // Same bookkeeping table as drizzle-kit's migrator, so either tool can take over.
    await tx.execute(sql`create schema if not exists drizzle`);
    await tx.execute(sql`
      create table if not exists drizzle.__drizzle_migrations (
        id serial primary key,
        hash text not null,
        created_at bigint
      )`);
    const result = await tx.execute<AppliedRow>(sql`select hash from drizzle.__drizzle_migrations`);
    const done = new Set(rowsOf<AppliedRow>(result).map((r) => r.hash));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.hash)) continue;
      for (const statement of migration.sql) {
        if (statement.trim()) await tx.execute(sql.raw(statement));
      }
      await tx.execute(
        sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
      );
      applied.push(String(migration.folderMillis));
    }
    if (applied.length > 0) {
      logger.info({ applied: applied.length, total: migrations.length }, 'migrations applied');
    } else {
      logger.debug({ total: migrations.length }, 'migrations up to date');
    }
    return { applied, alreadyApplied: done.size };
  });
}

/**
 * A PostgreSQL array literal (`{a,b}`) for one array parameter, so a statement reads the same
 * whatever the number of values. For values that need no quoting: numbers, uuids, identifiers.
 */
export function arrayLiteral(values: readonly (string | number)[]): string {
  return `{${values.join(',')}}`;
}

/** node-postgres returns `{ rows }`, PGlite returns `{ rows }` too; some drivers return arrays. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return (result as { rows?: T[] }).rows ?? [];
}
