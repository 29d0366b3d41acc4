// Maintenance jobs that one node at a time runs (retention, clean-ups): each batch runs in a
// transaction under a transaction-scoped advisory lock (PgBouncer-safe); a node that does not
// get the lock skips the round, and batches repeat until one handles less than a full batch.
import { sql } from 'drizzle-orm';
import type { Logger } from '../observability/index.js';
import type { Database, Transaction } from './database.js';
import { rowsOf } from './migrate.js';

export interface ClusterJob {
  /** Names the job in logs. */
  readonly name: string;
  /** Advisory lock key, an arbitrary constant unique in this database. */
  readonly lockKey: number;
  /** Rows one batch may handle; a batch that handles fewer ends the round. */
  readonly batchSize: number;
  /** Handles one batch in the locked transaction; returns how many rows it handled. */
  runBatch(tx: Transaction, batchSize: number): Promise<number>;
}

/** Runs one round; returns rows handled, or undefined when another node holds the job. */
export async function runClusterJobOnce(
  db: Database,
  job: ClusterJob,
): Promise<number | undefined> {
  let total = 0;
  for (;;) {
    const handled = await db.transaction(async (tx) => {
      const lock = await tx.execute(
        sql`select pg_try_advisory_xact_lock(${job.lockKey}) as locked`,
      );
      if (!rowsOf<{ locked: boolean }>(lock)[0]?.locked) return undefined;
      return job.runBatch(tx, job.batchSize);
    });
    if (handled === undefined) return total > 0 ? total : undefined;
    total += handled;
    if (handled < job.batchSize) return total;
  }
}

/** Runs the job every `intervalMs` (never two rounds at once) until the returned stop is called. */
export function scheduleClusterJob(
  db: Database,
  job: ClusterJob,
  intervalMs: number,
  logger: Logger,
): () => Promise<void> {
  let current: Promise<unknown> = Promise.resolve();
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    current = runClusterJobOnce(db, job)
      .then((handled) => {
        if (handled) logger.info({ job: job.name, rows: handled }, `${job.name} done`);
      })
      .catch((err: unknown) => logger.warn({ err, job: job.name }, `${job.name} failed`))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await current;
  };
}
