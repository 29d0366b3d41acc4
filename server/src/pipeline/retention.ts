// Deletes processed outbox events after the retention age, on one node at a time.
import type { Logger } from '../observability/index.js';
import {
  runClusterJobOnce,
  scheduleClusterJob,
  type ClusterJob,
  type Database,
} from '../store/index.js';
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

function retentionJob(options: RetentionOptions): ClusterJob {
  return {
    name: 'outbox retention',
    lockKey: RETENTION_LOCK_KEY,
    batchSize: options.batchSize ?? 10_000,
    runBatch: (tx, limit) => deleteProcessed(tx, options.retentionSeconds, limit),
  };
}

/** Runs one round; returns rows deleted, or undefined when another node holds the job. */
export function runRetention(options: RetentionOptions): Promise<number | undefined> {
  return runClusterJobOnce(options.db, retentionJob(options));
}

/** Runs the job every interval until the returned stop function is called. */
export function scheduleRetention(options: RetentionOptions): () => Promise<void> {
  return scheduleClusterJob(options.db, retentionJob(options), options.intervalMs, options.logger);
}
