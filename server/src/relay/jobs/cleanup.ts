// The relay's clean-ups, every minute, one instance at a time:
//  - pending plugin sessions past their deadline expire, and their streams get
//    `pairing_expired {reason: "expired"}` (outbox events, published after the commit);
//  - queued or delivered messages no agent finished within QUEUE_TTL_SECONDS expire;
//  - messages older than RELAY_MESSAGE_RETENTION_DAYS are deleted (Kakao payloads are personal
//    data); so are pairing codes a day after use or expiry, expired or disconnected sessions
//    after a day, and expired admin and portal sessions and access codes.
import { sql } from 'drizzle-orm';
import {
  rowsOf,
  runClusterJobOnce,
  scheduleClusterJob,
  type ClusterJob,
  type Transaction,
} from '../../store/index.js';
import type { RelayContext } from '../context.js';
import { expirePendingSessions } from '../pairing/index.js';

export const RELAY_CLEANUP_INTERVAL_MS = 60_000;
const SWEEP_LOCK_KEY = 7_364_211_201;
const SESSION_EXPIRY_LOCK_KEY = 7_364_211_202;
const BATCH_SIZE = 1000;
/** Ended sessions and used codes are kept this long, for the operator to look at. */
const KEEP_ENDED_SECONDS = 24 * 3600;

const countOf = (result: unknown): number =>
  Number(rowsOf<{ count: number }>(result)[0]?.count ?? 0);

/** Deletes up to `limit` rows of `table` matching `condition`; returns how many. */
async function deleteSome(
  tx: Transaction,
  table: string,
  key: string,
  condition: ReturnType<typeof sql>,
  limit: number,
): Promise<number> {
  const t = sql.raw(table);
  const k = sql.raw(key);
  return countOf(
    await tx.execute(sql`
      with doomed as (select ${k} from ${t} where ${condition} limit ${limit}),
      deleted as (delete from ${t} x using doomed where x.${k} = doomed.${k} returning 1)
      select count(*)::int as count from deleted`),
  );
}

export function relaySweepJob(ctx: RelayContext): ClusterJob {
  return {
    name: 'relay clean-up',
    lockKey: SWEEP_LOCK_KEY,
    batchSize: BATCH_SIZE,
    async runBatch(tx, limit) {
      const now = new Date(ctx.now()).toISOString();
      const at = sql`${now}::timestamptz`;
      const ago = (seconds: number) => sql`(${at} - make_interval(secs => ${seconds}::float8))`;
      const queueTtl = ctx.config.QUEUE_TTL_SECONDS;
      const retention = ctx.config.RELAY_MESSAGE_RETENTION_DAYS * 86_400;
      const counts = [
        countOf(
          await tx.execute(sql`
            with doomed as (
              select id from relay.inbound_messages
              where status in ('queued', 'delivered') and created_at < ${ago(queueTtl)}
              limit ${limit} for update skip locked
            ), expired as (
              update relay.inbound_messages m set status = 'expired', expired_at = ${at}
              from doomed where m.id = doomed.id returning 1
            )
            select count(*)::int as count from expired`),
        ),
        await deleteSome(
          tx,
          'relay.outbound_messages',
          'id',
          sql`created_at < ${ago(retention)}`,
          limit,
        ),
        await deleteSome(
          tx,
          'relay.inbound_messages',
          'id',
          sql`created_at < ${ago(retention)}`,
          limit,
        ),
        await deleteSome(
          tx,
          'relay.pairing_codes',
          'code',
          sql`used_at < ${ago(KEEP_ENDED_SECONDS)} or expires_at < ${ago(KEEP_ENDED_SECONDS)}`,
          limit,
        ),
        await deleteSome(
          tx,
          'relay.sessions',
          'id',
          sql`status in ('expired', 'disconnected') and updated_at < ${ago(KEEP_ENDED_SECONDS)}`,
          limit,
        ),
        await deleteSome(tx, 'relay.admin_sessions', 'id', sql`expires_at <= ${at}`, limit),
        await deleteSome(tx, 'relay.portal_sessions', 'id', sql`expires_at <= ${at}`, limit),
        await deleteSome(
          tx,
          'relay.portal_access_codes',
          'code_hash',
          sql`expires_at <= ${at}`,
          limit,
        ),
      ];
      // A full batch of any kind means there may be more: another batch runs.
      return Math.max(...counts);
    },
  };
}

/**
 * Expires pending sessions in batches under an advisory lock. Not a cluster job: its events
 * must reach the fast path after each commit, so it runs in the pipeline's transaction.
 */
export async function expireSessionsRound(ctx: RelayContext): Promise<number | undefined> {
  let total = 0;
  for (;;) {
    const expired = await ctx.pipeline.transaction(async (tx, outbox) => {
      const lock = await tx.execute(
        sql`select pg_try_advisory_xact_lock(${SESSION_EXPIRY_LOCK_KEY}) as locked`,
      );
      if (!rowsOf<{ locked: boolean }>(lock)[0]?.locked) return undefined;
      return expirePendingSessions(tx, outbox, new Date(ctx.now()), BATCH_SIZE);
    });
    if (expired === undefined) return total > 0 ? total : undefined;
    total += expired;
    if (expired < BATCH_SIZE) return total;
  }
}

export interface RelayCleanupResult {
  /** Undefined when another instance held the job. */
  readonly expiredSessions: number | undefined;
  readonly swept: number | undefined;
}

/** One round of every clean-up now (tests, and the CLI if it ever needs one). */
export async function runRelayCleanup(ctx: RelayContext): Promise<RelayCleanupResult> {
  const expiredSessions = await expireSessionsRound(ctx);
  const swept = await runClusterJobOnce(ctx.db, relaySweepJob(ctx));
  return { expiredSessions, swept };
}

/** Starts the relay clean-up jobs; returns their stop. */
export function scheduleRelayCleanup(ctx: RelayContext): () => Promise<void> {
  const stopSweep = scheduleClusterJob(
    ctx.db,
    relaySweepJob(ctx),
    RELAY_CLEANUP_INTERVAL_MS,
    ctx.logger,
  );
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = expireSessionsRound(ctx)
      .then((expired) => {
        if (expired) ctx.logger.info({ sessions: expired }, 'pending relay sessions expired');
      })
      .catch((err: unknown) => ctx.logger.warn({ err }, 'relay session expiry failed'))
      .finally(() => {
        running = undefined;
      });
  }, RELAY_CLEANUP_INTERVAL_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await Promise.all([stopSweep(), running]);
  };
}
