// Test helpers for the two targets every store/broker test runs against: the embedded defaults
// (PGlite + memory broker) and, when TEST_DATABASE_URL / TEST_REDIS_URL are set, real services.
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import type { Broker } from '../broker/index.js';
import { createMemoryBroker } from '../broker/index.js';
import { migrationsFolder, openStore, runMigrations, type Store } from '../store/index.js';

/** Real PostgreSQL admin URL (a database we may CREATE DATABASE from), when the run targets it. */
export const realPostgresUrl = process.env.TEST_DATABASE_URL || undefined;
/** Real Redis URL, when the run targets it. */
export const realRedisUrl = process.env.TEST_REDIS_URL || undefined;

export const target = realPostgresUrl ? 'real services' : 'embedded';

/** A logger that writes nothing unless TEST_LOG_LEVEL is set. */
export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function skipReason(service: 'PostgreSQL' | 'Redis'): string {
  const variable = service === 'PostgreSQL' ? 'TEST_DATABASE_URL' : 'TEST_REDIS_URL';
  return `needs real ${service}: set ${variable} (npm test does when the service is reachable)`;
}

/** Creates an empty database on the real server; `drop()` removes it. */
export async function createTestDatabase(
  adminUrl: string = realPostgresUrl ?? '',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (!adminUrl) throw new Error(skipReason('PostgreSQL'));
  const name = `sb_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface TestStore {
  store: Store;
  /** The PostgreSQL URL of the fresh database (real target only). */
  databaseUrl?: string;
  dataDir?: string;
  cleanup(): Promise<void>;
}

/** A migrated store on the current target: a fresh real database, or PGlite in a temp dir. */
export async function makeTestStore(options: { migrate?: boolean } = {}): Promise<TestStore> {
  const migrate = options.migrate ?? true;
  if (realPostgresUrl) {
    const database = await createTestDatabase();
    const store = await openStore({
      databaseUrl: database.url,
      dataDir: '/nonexistent',
      poolMax: 5,
      connectTimeoutMs: 3000,
      logger: testLogger,
    });
    if (migrate) await runMigrations(store.db, testLogger);
    return {
      store,
      databaseUrl: database.url,
      async cleanup() {
        await store.close();
        await database.drop();
      },
    };
  }
  const pgliteFrom = migrate ? await migratedPgliteTemplate() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-test-'));
  const store = await openStore({
    dataDir,
    poolMax: 1,
    connectTimeoutMs: 3000,
    logger: testLogger,
    ...(pgliteFrom ? { pgliteFrom } : {}),
  });
  return {
    store,
    dataDir,
    async cleanup() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A migrated PGlite data directory, built once per set of migrations and shared by every test
 * worker through a file in the temp directory: cloning it is faster than migrating a fresh PGlite.
 */
async function migratedPgliteTemplate(): Promise<Blob> {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsFolder, { recursive: true }).map(String).sort()) {
    const path = join(migrationsFolder, file);
    if (statSync(path).isFile()) hash.update(file).update(readFileSync(path));
  }
  const templatePath = join(tmpdir(), `sb-pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
  if (!existsSync(templatePath)) {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-template-'));
    const store = await openStore({
      dataDir,
      poolMax: 1,
      connectTimeoutMs: 3000,
      logger: testLogger,
    });
    try {
      await runMigrations(store.db, testLogger);
      const dump = await store.dumpDataDir!();
      // Written under a unique name and renamed, so concurrent workers never read half a file.
      const partial = `${templatePath}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      renameSync(partial, templatePath);
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return new Blob([readFileSync(templatePath)]);
}

/** A broker on the current target: Redis when TEST_REDIS_URL is set, memory otherwise. */
export async function makeTestBroker(): Promise<Broker> {
  if (!realRedisUrl) return createMemoryBroker();
  const { createRedisBroker } = await import('../broker/redis-broker.js');
  return createRedisBroker({ url: realRedisUrl, logger: testLogger, mode: 'perconv' });
}

/** A temp directory removed by the returned function. */
export function makeTempDir(prefix = 'sb-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
