// Chat's clean-ups, on one node at a time: stored Idempotency-Key responses after a day, and
// refresh tokens once expired (reuse detection needs a used token only while it could be valid).
import { sql } from 'drizzle-orm';
import {
  rowsOf,
  runClusterJobOnce,
  scheduleClusterJob,
  type ClusterJob,
  type Database,
} from '../../store/index.js';
import type { Logger } from '../../observability/index.js';

/** Idempotency-Key responses are replayed for this long. */
export const IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600;

const CLEANUP_LOCK_KEY = 7_364_211_101;

const countOf = (result: unknown): number =>
  Number(rowsOf<{ count: number }>(result)[0]?.count ?? 0);

export const chatCleanupJob: ClusterJob = {
  name: 'chat clean-up',
  lockKey: CLEANUP_LOCK_KEY,
  batchSize: 5000,
  async runBatch(tx, limit) {
    const keys = await tx.execute(sql`
      with doomed as (
        select user_id, key from chat.idempotency_keys
        where created_at < now() - make_interval(secs => ${IDEMPOTENCY_KEY_TTL_SECONDS}::float8)
        limit ${limit}
      ), deleted as (
        delete from chat.idempotency_keys k using doomed
        where k.user_id = doomed.user_id and k.key = doomed.key
        returning 1
      )
      select count(*)::int as count from deleted`);
    const tokens = await tx.execute(sql`
      with doomed as (
        select id from chat.refresh_tokens where expires_at < now() limit ${limit}
      ), deleted as (
        delete from chat.refresh_tokens t using doomed where t.id = doomed.id returning 1
      )
      select count(*)::int as count from deleted`);
    // A full batch of either kind means there may be more: another batch runs.
    return Math.max(countOf(keys), countOf(tokens));
  },
};

export function runChatCleanup(db: Database): Promise<number | undefined> {
  return runClusterJobOnce(db, chatCleanupJob);
}

export function scheduleChatCleanup(db: Database, logger: Logger): () => Promise<void> {
  return scheduleClusterJob(db, chatCleanupJob, 3600_000, logger);
}
