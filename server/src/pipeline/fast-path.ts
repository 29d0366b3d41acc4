// The fast path: right after a commit, the committing process runs the new events' consumers
// itself and marks them processed in batches, so an event is normally published once and with
// no polling delay. What it cannot finish (a crash, the broker down) the relay workers take over.
import type { Database } from '../store/index.js';
import type { Logger } from '../observability/index.js';
import { runConsumers, type ConsumerRegistry } from './consumers.js';
import type { OutboxRecord } from './events.js';
import type { OutboxMetrics } from './metrics.js';
import {
  markProcessed,
  notifyWorkers,
  recordFailures,
  type FailureUpdate,
} from './outbox-queries.js';
import { failureUpdate, type RetryPolicy } from './retry-policy.js';

export interface FastPathOptions {
  db: Database;
  consumers: ConsumerRegistry;
  policy: RetryPolicy;
  consumerTimeoutMs: number;
  logger: Logger;
  metrics?: OutboxMetrics;
  /** Wakes this process's workers. */
  wakeLocal: () => void;
  /**
   * Longest a processed mark waits for company before it is written; well inside the workers'
   * grace period, or they would publish the event again (20 ms when not given).
   */
  flushDelayMs?: number;
  /** Most ids marked in one statement. */
  maxBatch?: number;
}

export class FastPath {
  /** Events done by every consumer, with the time of their commit, waiting for their mark. */
  private readonly done: Array<{ id: number; committedAt: number }> = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private writing = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly flushDelayMs: number;
  private readonly maxBatch: number;

  constructor(private readonly options: FastPathOptions) {
    this.flushDelayMs = options.flushDelayMs ?? 20;
    this.maxBatch = options.maxBatch ?? 500;
  }

  /** Runs the consumers of freshly committed events. Never throws: workers retry what fails. */
  dispatch(records: readonly OutboxRecord[], committedAt: number): Promise<void> {
    const work = this.run(records, committedAt);
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  /** Waits for dispatches in flight and writes every pending processed mark. */
  async close(): Promise<void> {
    await Promise.all([...this.inFlight]);
    this.flushNow();
    while (this.writing) await this.flushing;
  }

  private async run(records: readonly OutboxRecord[], committedAt: number): Promise<void> {
    const failures: FailureUpdate[] = [];
    const { consumers, consumerTimeoutMs, policy, metrics } = this.options;
    await Promise.all(
      records.map(async (record) => {
        if (record.pending.length === 0) return;
        const outcome = await runConsumers(consumers, record, consumerTimeoutMs);
        if (outcome.remaining.length === 0) {
          metrics?.observePublished('fast', committedAt);
          this.markDone(record.id, committedAt);
          return;
        }
        const update = failureUpdate(record, outcome, policy);
        metrics?.retries.inc({ reason: update.attemptsUsed ? 'failed' : 'unavailable' });
        if (update.deadLetter) {
          metrics?.deadLettered.inc();
          this.options.logger.error(
            { event: record.id, type: record.type, topic: record.topic, error: update.error },
            'outbox event dead-lettered after its last attempt',
          );
        }
        failures.push(update);
      }),
    );
    if (failures.length === 0) return;
    this.options.logger.warn(
      { events: failures.map((f) => f.id), error: failures[0]?.error },
      'fast path could not finish events; relay workers will retry them',
    );
    try {
      await recordFailures(this.options.db, failures);
      await notifyWorkers(this.options.db);
    } catch (err) {
      // The rows stay due after the fast path's turn; a worker finds them anyway.
      this.options.logger.warn({ err }, 'could not record fast-path failures');
    }
    this.options.wakeLocal();
  }

  private markDone(id: number, committedAt: number): void {
    this.done.push({ id, committedAt });
    if (this.done.length >= this.maxBatch) this.flushNow();
    else this.flushTimer ??= setTimeout(() => this.flushNow(), this.flushDelayMs);
  }

  /**
   * Starts writing the marks unless a write is in flight: then the next write, started when it
   * finishes, takes every id done by that time. One statement at a time, however many ids, so
   * the marks never queue up behind a busy pool.
   */
  private flushNow(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.writing || this.done.length === 0) return;
    this.writing = true;
    this.flushing = this.writeMarks().finally(() => {
      this.writing = false;
      if (this.done.length > 0) this.flushNow();
    });
  }

  private async writeMarks(): Promise<void> {
    while (this.done.length > 0) {
      const marks = this.done.splice(0, 5000);
      const ids = marks.map((m) => m.id);
      try {
        await markProcessed(this.options.db, ids);
        this.options.metrics?.observeProcessed(
          'fast',
          marks.map((m) => m.committedAt),
        );
      } catch (err) {
        // A failed mark only means a worker publishes these again after the grace period.
        this.options.logger.warn(
          { err, events: ids.length },
          'could not mark events processed; workers will publish them again',
        );
      }
    }
  }
}
