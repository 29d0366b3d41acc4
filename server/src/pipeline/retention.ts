// Deletes processed outbox events after the retention age. One node at a time does it: each
// round runs under a transaction-scoped advisory lock (PgBouncer-safe), others skip the round.
import { sql } from 'drizzle-orm';
import type { Database } from '../store/index.js';
import { rowsOf } from '../store/index.js';
import type { Logger } from '../observability/index.js';
import { deleteProcessed } from './outbox-queries.js';

/** Advisory lock key of the retention job (an arbitrary constant unique in this database). */
export const RETENTION_LOCK_KEY = 7_364_211_002;

export interface RetentionOptions {
  db: Database;
  retentionSeconds: number;
  intervalMs: number;
  logger: Logger;
  /** Rows deleted per statement; rounds repeat until less than this is left. */
  batchSize?: number;
}

/** Runs one round; returns rows deleted, or undefined when another node holds the job. */
export async function runRetention(options: RetentionOptions): Promise<number | undefined> {
  const batchSize = options.batchSize ?? 10_000;
  let total = 0;
  for (;;) {
    const deleted = await options.db.transaction(async (tx) => {
      const lock = await tx.execute(
        sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY}) as locked`,
      );
      if (!rowsOf<{ locked: boolean }>(lock)[0]?.locked) return undefined;
      return deleteProcessed(tx, options.retentionSeconds, batchSize);
    });
    if (deleted === undefined) return total > 0 ? total : undefined;
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/** Runs the job every interval until the returned stop function is called. */
export function scheduleRetention(options: RetentionOptions): () => Promise<void> {
  let current: Promise<unknown> = Promise.resolve();
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    current = runRetention(options)
      .then((deleted) => {
        if (deleted) options.logger.info({ deleted }, 'outbox retention removed processed events');
      })
      .catch((err: unknown) => options.logger.warn({ err }, 'outbox retention failed'))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await current;
  };
}
