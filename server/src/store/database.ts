// Database handle: node-postgres when DATABASE_URL is set, embedded PGlite in DATA_DIR otherwise.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { PoolClient } from 'pg';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Logger } from '../observability/index.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.js';

/** A Drizzle database over either driver; modules write queries against this one type. */
export type Database = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/** The handle a `db.transaction` callback receives. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** What runs a statement: the database itself or an open transaction. */
export type Executor = Pick<Database, 'execute'>;

/** Dumps an embedded database's files (for templates); undefined on PostgreSQL. */
export type DumpDataDir = () => Promise<Blob>;

export interface Store {
  readonly db: Database;
  readonly kind: 'postgres' | 'pglite';
  /** Resolves when a trivial query succeeds within `timeoutMs`; throws DatabaseUnavailableError. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
  /** Embedded only: the database files as a tarball, loadable with `pgliteFrom`. */
  dumpDataDir?: DumpDataDir;
}

export interface StoreOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolMax: number;
  connectTimeoutMs: number;
  logger: Logger;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Embedded only: run PGlite in memory, starting from a dumped data directory (a migrated
   * template) instead of DATA_DIR. Used by tests, where it is several times faster.
   */
  pgliteFrom?: Blob;
}

/** A connection reserved for one piece of work. */
export interface Connection {
  readonly db: Executor;
  /**
   * Asks the server to cancel the statement the connection is running, if any. The connection
   * goes back to the pool only after the request was made, so it cannot hit the next user's.
   */
  readonly cancel: () => void;
}

type Reserve = <T>(work: (connection: Connection) => Promise<T>) => Promise<T>;

/** How each database hands out a connection of its own. */
const reservers = new WeakMap<Database, Reserve>();

/**
 * Runs `work` on a connection of its own: the wait for it (a free pooled connection; PGlite's
 * single one) is over when `work` starts, so what `work` decides at its start (say, whether there
 * is still time to commit) holds when its statement reaches the server.
 */
export function withConnection<T>(
  db: Database,
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  const reserve = reservers.get(db);
  if (!reserve) throw new Error('withConnection needs a database opened by openStore');
  return reserve(work);
}

export async function openStore(options: StoreOptions): Promise<Store> {
  return options.databaseUrl ? openPostgres(options, options.databaseUrl) : openPglite(options);
}

async function openPostgres(options: StoreOptions, url: string): Promise<Store> {
  const [{ default: pg }, { drizzle }] = await Promise.all([
    import('pg'),
    import('drizzle-orm/node-postgres'),
  ]);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'switchboard',
    // Keep-alive notices a vanished server on idle connections too.
    keepAlive: true,
  });
  // A client whose server goes away emits 'error', and an unhandled 'error' crashes the process.
  // pg-pool listens only while a client is idle, so a client checked out when the database dies
  // (mid-transaction) needs its own listener; the query in flight fails with the error anyway.
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      options.logger.warn({ err: { message: err.message } }, 'database connection lost');
    });
  });
  // The pool re-emits idle clients' errors here; the listener above has logged them already.
  pool.on('error', () => {});
  const db = drizzle({ client: pool }) as unknown as Database;
  // A Drizzle handle per pooled connection, made on its first reservation: connections live long.
  const onConnection = new WeakMap<PoolClient, Executor>();
  reservers.set(db, async (work) => {
    const client = await pool.connect();
    let executor = onConnection.get(client);
    if (!executor) {
      executor = drizzle({ client });
      onConnection.set(client, executor);
    }
    let cancelling: Promise<unknown> | undefined;
    const cancel = (): void => {
      const pid = (client as PoolClient & { processID?: number }).processID;
      cancelling ??= pool.query('select pg_cancel_backend($1)', [pid]).catch((err: unknown) => {
        options.logger.warn({ err }, 'could not cancel a statement');
      });
    };
    try {
      const result = await work({ db: executor, cancel });
      await cancelling;
      client.release();
      return result;
    } catch (err) {
      await cancelling;
      // As pool.query does: a connection whose work failed is not trusted with the next.
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  });
  let closed = false;
  return {
    db,
    kind: 'postgres',
    ping: (timeoutMs = 2000) => pingWith(db, timeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

async function openPglite(options: StoreOptions): Promise<Store> {
  const lock: DataDirLock = options.pgliteFrom
    ? { release: () => undefined }
    : acquireDataDirLock(options.dataDir);
  try {
    const [{ PGlite }, { drizzle }, { pg_trgm }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('drizzle-orm/pglite'),
      import('@electric-sql/pglite/contrib/pg_trgm'),
    ]);
    // Extensions the migrations create (chat search uses pg_trgm) must be loaded up front.
    const extensions = { pg_trgm };
    let client: InstanceType<typeof PGlite>;
    if (options.pgliteFrom) {
      client = await PGlite.create({ loadDataDir: options.pgliteFrom, extensions });
    } else {
      const path = join(options.dataDir, 'pglite');
      mkdirSync(path, { recursive: true });
      client = await PGlite.create(path, { extensions });
    }
    const db = drizzle({ client }) as unknown as Database;
    // One connection: a transaction holds it. Nothing else can run meanwhile, so nothing can
    // block the work's statements and there is nothing to cancel.
    reservers.set(db, (work) => db.transaction((tx) => work({ db: tx, cancel: () => {} })));
    let closed = false;
    return {
      db,
      kind: 'pglite',
      ping: (timeoutMs = 2000) => pingWith(db, timeoutMs),
      dumpDataDir: () => client.dumpDataDir('none'),
      async close() {
        if (closed) return;
        closed = true;
        await client.close();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function pingWith(db: Database, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DatabaseUnavailableError(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([db.execute(sql`select 1`), timeout]);
  } catch (err) {
    if (err instanceof DatabaseUnavailableError) throw err;
    if (isDatabaseUnavailable(err)) {
      throw new DatabaseUnavailableError(describeCause(err), { cause: err });
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function describeCause(err: unknown): string {
  for (let e = err, depth = 0; e && depth < 6; depth++) {
    const { code, message, cause } = e as { code?: string; message?: string; cause?: unknown };
    if (code && message) return `${code}: ${message}`;
    if (!cause && message) return message;
    e = cause;
  }
  return 'unreachable';
}
